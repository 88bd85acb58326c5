"""Store round trips per audio chunk (the figure bench/perf/store_calls.py reports) do not creep up."""
from bench.perf.store_calls import count_store_calls


def test_one_chunk_costs_two_ingress_and_at_most_six_pipeline_store_calls():
    counts = count_store_calls(chunks=6)
    assert counts["ingress"] == 2.0  # ownership check, then the durable put
    assert counts["pipeline"] <= 6.0, counts["by_method"]
