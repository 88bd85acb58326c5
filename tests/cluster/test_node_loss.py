"""Losing a worker node under load (issue 17): the app is deployed once on a head and a worker node,
with replicas on both; while clinicians stream sessions the worker node is killed (its raylet and every
process on it).  Sessions continue on the head, every acknowledged chunk and feedback is present exactly
once, and when a new node joins, the replicas that did not fit on the head start there."""
from __future__ import annotations

import json
import time

from bench.harness.kill import StreamingLoad, assert_nothing_lost, recovery_s
from bench.harness.serve import TOKENS


def test_a_worker_node_dies_mid_session_nothing_is_lost_and_replicas_return_when_a_node_joins(serve_app, alice):
    serve_app.wait_all_running()
    head = serve_app.head_id
    worker = next(n for n in serve_app.cluster.list_all_nodes() if n.node_id != head)
    before = serve_app.placement()
    assert all(set(before[d]) == {head, worker.node_id} for d in ("ASR", "PII", "Roles", "Guardrails")), before

    load = StreamingLoad(serve_app.url, TOKENS["alice"], streams=3, chunks=6).start()
    load.wait_progress(0)
    acked_before = load.acked()
    t0 = time.monotonic()
    serve_app.kill_node(worker)
    try:
        recovery = recovery_s(serve_app.url, TOKENS["bob"], t0)  # a new session's first chunk transcribed again
    except AssertionError as exc:
        raise AssertionError(f"{exc}: replicas {serve_app.replica_states()}, placement {serve_app.placement()}") from exc
    load.wait_progress(acked_before)  # the streams go on
    serve_app.wait_node_dead(worker)  # its actors count as alive until the GCS marks the node dead
    node_dead = time.monotonic() - t0
    after_loss = serve_app.placement()
    assert all(set(nodes) == {head} for nodes in after_loss.values()), after_loss
    states_after_loss = serve_app.replica_states()

    t1 = time.monotonic()
    joined = serve_app.add_worker()
    rejoin = serve_app.wait_all_running()
    rejoined = serve_app.placement()
    assert any(joined.node_id in nodes for nodes in rejoined.values()), rejoined  # replicas came back there
    load.stop()
    assert_nothing_lost(load, serve_app.data_dir, alice)

    def counts(p):
        return {d: {("head" if n == head else "worker"): c for n, c in nodes.items()} for d, nodes in sorted(p.items())}

    summary = {"recovery_s": round(recovery, 2), "node_marked_dead_s": round(node_dead, 2), "all_running_after_join_s": round(rejoin, 2),
               "join_to_all_running_s": round(time.monotonic() - t1, 2),
               "sessions": len(load.sessions), "chunks_acked": load.acked(),
               "feedback_acked": sum(1 for s in load.sessions if s.feedback_id), "lost": 0, "retries": load.retries,
               "server_errors": sorted({f"{e['status']} {e['what']}" for e in load.server_errors}),
               "replicas_before": counts(before), "replicas_after_loss": counts(after_loss),
               "replica_states_after_loss": states_after_loss, "replicas_after_join": counts(rejoined)}
    (serve_app.data_dir / "node_loss.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))
