"""Bench: Serve autoscaling of a CPU stage under a rising, then falling load (issue 17).

    . scripts/env.sh && python -m bench.perf.autoscale [--decode-s 1.5] [--phase-s 40]

The real graph with the graph tier's fake engines, except ASR, whose every decode takes ``--decode-s``
of wall time without using CPU (``SlowFakeAsr``): so replica counts follow the load the ASR deployment
sees, not this 2-core machine's CPU.  ASR gets ``resources.asr.autoscaling`` (min 1, max 4, target 2
requests in flight per replica, short delays so a run takes minutes).  Live sessions stream a 2 s chunk
every 2 s; their number steps through ``--steps`` (default 1, 4, 8, 4, 1), ``--phase-s`` each.  Every
2 s the bench records the sessions streaming, ASR replicas RUNNING / starting / stopping (``serve.status``)
and the backlog (chunks received, not processed).  Result: ``bench/results/autoscale.json``.
"""
from __future__ import annotations

import argparse
import asyncio
import functools
import json
import time

import httpx

from bench.harness.data import RESULTS
from bench.harness.serve import TOKENS, start_serve_app, stop_serve_app

CHUNK_S = 2.0


def _replicas() -> dict[str, int]:
    from ray import serve

    status = serve.status().applications["scribe"].deployments["ASR"]
    return {str(state): n for state, n in status.replica_states.items()}


async def _session(http: httpx.AsyncClient, chunk: bytes, stop: asyncio.Event, sids: list[str]) -> None:
    sid = (await http.post("/v1/sessions", json={})).json()["session_id"]
    sids.append(sid)
    t0, seq = time.monotonic(), 0
    while not stop.is_set():
        r = await http.put(f"/v1/sessions/{sid}/audio/{seq}", content=chunk, headers={"Content-Type": "audio/wav"})
        seq += r.status_code == 202
        await asyncio.sleep(max(0.0, t0 + seq * CHUNK_S - time.monotonic()))


async def _run(url: str, steps: list[int], phase_s: float, chunk: bytes) -> list[dict]:
    samples: list[dict] = []
    limits = httpx.Limits(max_connections=4 * max(steps) + 8)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits,
                                 headers={"Authorization": f"Bearer {TOKENS['alice']}"}) as http:
        live: list[tuple[asyncio.Task, asyncio.Event]] = []
        sids: list[str] = []
        t0 = time.monotonic()
        for target in steps:
            while len(live) < target:
                stop = asyncio.Event()
                live.append((asyncio.create_task(_session(http, chunk, stop, sids)), stop))
            while len(live) > target:
                live.pop()[1].set()
            phase_end = time.monotonic() + phase_s
            while time.monotonic() < phase_end:
                backlog = 0
                for sid in sids:  # every session so far: a stopped one's backlog still drains
                    chunks = (await http.get(f"/v1/sessions/{sid}")).json()["chunks"]
                    backlog += chunks["received"] - chunks["processed"]
                samples.append({"t": round(time.monotonic() - t0, 1), "sessions": len(live),
                                "asr_replicas": await asyncio.to_thread(_replicas), "backlog": backlog})
                print(json.dumps(samples[-1]), flush=True)
                await asyncio.sleep(2.0)
        for _task, stop in live:
            stop.set()
        await asyncio.gather(*(t for t, _ in live), return_exceptions=True)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--decode-s", type=float, default=1.5)
    parser.add_argument("--phase-s", type=float, default=40.0)
    parser.add_argument("--steps", default="1,4,8,4,1")
    args = parser.parse_args()
    from dataclasses import replace

    from bench.harness.fakes.asr import SlowFakeAsr, encoded_wav
    from bench.harness.fakes.graph import ARGS, FAKES

    autoscaling = {"min_replicas": 1, "max_replicas": 4, "target_ongoing_requests": 2,
                   "upscale_delay_s": 4, "downscale_delay_s": 12}
    overrides = {**ARGS, "resources": {"asr": {"num_cpus": 0.1, "autoscaling": autoscaling}}}
    app = start_serve_app(overrides, engines=replace(FAKES, asr=functools.partial(SlowFakeAsr, args.decode_s)))
    try:
        steps = [int(s) for s in args.steps.split(",")]
        samples = asyncio.run(_run(app.url, steps, args.phase_s, encoded_wav(1, int(CHUNK_S))))
    finally:
        stop_serve_app()
    report = {"decode_s": args.decode_s, "phase_s": args.phase_s, "steps": steps, "autoscaling": autoscaling,
              "samples": samples}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "autoscale.json").write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
