"""The kill table: what was killed under load, chunks and feedback acknowledged vs present, recovery time.

    python -m bench.perf.kill_table [--streams 3] [--chunks 6]

Starts the production graph with fake engines and its store on a real ``redis-server`` (as the graph
test tier does), streams sessions as three clinicians, and kills in turn the store actor, Redis, one
replica of every deployment and the whole app (:func:`bench.harness.kill.run_kills`); then checks
every acknowledged chunk is transcribed exactly once and every acknowledged feedback is in the
feedback dataset exactly once.  Writes ``bench/results/kill_table.json``.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parents[1] / "results"


def main() -> dict:
    import httpx
    import pyarrow.dataset as pads

    from bench.harness.fakes.graph import ARGS, FAKES
    from bench.harness.kill import run_kills
    from bench.harness.serve import TOKENS, start_serve_app, stop_serve_app

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=3)
    parser.add_argument("--chunks", type=int, default=6)
    args = parser.parse_args()
    app = start_serve_app(ARGS, engines=FAKES, redis=True)
    try:
        load, table = run_kills(app, streams=args.streams, chunks=args.chunks)
        http = httpx.Client(base_url=app.url, timeout=60, headers={"Authorization": f"Bearer {TOKENS['alice']}"})
        words = [f"w{i}" for i in range(1, 2 * args.chunks + 1)]
        exact = {}  # session -> its transcript is every acknowledged chunk's words, once, in order
        for record in load.sessions:
            state = http.get(f"/v1/sessions/{record.sid}").json()
            exact[record.sid] = " ".join(s["text"] for s in state["segments"]).split() == words
        time.sleep(5)  # the flywheel publishes every 0.5 s
        files = [str(p) for p in (app.data_dir / "flywheel" / "feedback").rglob("*.parquet")
                 if not any(x.startswith(("_", ".")) for x in p.parts[-2:])]
        rows = pads.dataset(files).to_table(columns=["feedback_id"]).column("feedback_id").to_pylist() if files else []
        for row, end in zip(table, [r["at"] for r in table[1:]] + [float("inf")]):
            row["chunks_present"] = sum(1 for s in load.sessions for t in s.acked.values()
                                        if row["at"] <= t < end and exact[s.sid])
            row["feedback_present"] = sum(1 for s in load.sessions if s.feedback_at and row["at"] <= s.feedback_at < end
                                          and rows.count(s.feedback_id) == 1)
            del row["at"]
        errors = [{k: v for k, v in e.items() if k != "at"} for e in load.server_errors]
        report = {"sessions": len(load.sessions), "chunks_acked": load.acked(), "sessions_exact": sum(exact.values()),
                  "feedback_acked": sum(1 for s in load.sessions if s.feedback_id), "feedback_rows": len(rows),
                  "retries": load.retries, "stream_failures": load.failures, "kills": table, "server_errors": errors}
    finally:
        stop_serve_app()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "kill_table.json").write_text(json.dumps(report, indent=1))
    print(json.dumps(report, indent=1))
    return report


if __name__ == "__main__":
    main()
