"""Kill tests under load (issue 15): while three clinicians stream sessions, kill the store actor,
Redis, one replica of every deployment and the whole app, one after another.  Afterwards every
acknowledged chunk is in its session's transcript exactly once (the fake ASR's words ``w1..wN`` in
order, none missing, none twice), every session finished, and every acknowledged feedback is in the
flywheel's feedback dataset exactly once.  The table (recovery time per kill) is written to the
tier's data dir and printed; ``python -m bench.perf.kill_table`` runs the same on a fresh app.
"""
from __future__ import annotations

import json

import pytest

from bench.harness.kill import TARGETS, assert_nothing_lost, run_kills

pytestmark = pytest.mark.graph


def test_kills_under_load_lose_and_duplicate_nothing(serve_app, alice):
    load, table = run_kills(serve_app)
    assert_nothing_lost(load, serve_app.data_dir, alice)
    acked = [s.feedback_id for s in load.sessions if s.feedback_id]
    for row in table:
        row["chunks_present"] = row["chunks_acked"]  # asserted above: every acknowledged chunk is present
        row["feedback_present"] = row["feedback_acked"]
    summary = {"sessions": len(load.sessions), "chunks_acked": sum(len(s.acked) for s in load.sessions),
               "feedback_acked": len(acked), "retries": load.retries,
               "server_errors": [{k: v for k, v in e.items() if k != "at"} for e in load.server_errors],
               "kills": [{k: v for k, v in row.items() if k != "at"} for row in table]}
    (serve_app.data_dir / "kill_table.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))
    assert len(load.sessions) >= len(TARGETS)  # sessions were streaming throughout
