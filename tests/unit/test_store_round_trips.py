"""Store round trips per audio chunk (the figure bench/perf/store_calls.py reports) do not creep up."""
from bench.perf.store_calls import count_store_calls


def test_one_chunk_costs_one_ingress_and_at_most_six_pipeline_store_calls():
    counts = count_store_calls(chunks=6)
    # the durable put; the ownership check is asked once per session (6 chunks: 7 calls, 1.17 each)
    assert counts["ingress"] == 7 / 6, counts["by_method"]
    assert counts["pipeline"] <= 6.0, counts["by_method"]
