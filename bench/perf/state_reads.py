"""Bench: session state reads under concurrent writes, against a real Serve app (issue 15).

    . scripts/env.sh && python -m bench.perf.state_reads [--engines fake|real] [--seconds 20]

One "read" session holds a consultation's worth of transcript (40 segments).  While ``writers``
other sessions are being written at the same time, in real time (each one a 2 s audio chunk every
2 s and a two-line text batch every 8 s, so the store journals, fsyncs and the pipeline commits all
along), ``clients``
concurrent readers ``GET /v1/sessions/{sid}`` back to back for ``seconds``.  Reported per level
(1, 16 and 64 clients, in one run): reads/s, latency p50/p95/p99/max, and the writers' PUT latency
p50/p99 in the same window (``--think-ms``: readers that pause after each answer, as polling
screens do, instead of back to back).  ``--engines fake`` (default) runs the graph tier's deterministic
engines so the store and the HTTP path are what is measured; ``--engines real`` the packaged models.
Results: ``bench/results/state_reads[_<label>].json``.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import time

import httpx
import numpy as np

from bench.harness.data import RESULTS
from bench.harness.serve import TOKENS, start_serve_app, stop_serve_app
from bench.harness.wrk import require_wrk, run_wrk

CHUNK_S = 2  # seconds of audio per chunk, sent every CHUNK_S (real time)
SEGMENTS = [{"text": f"Line {k}: the cough started about {k % 7 + 1} days ago and is worse at night.",
             "role": ("doctor", "patient")[k % 2]} for k in range(40)]


def _pct(values: list[float]) -> dict:
    ms = np.array(values or [0.0]) * 1000
    return {"n": len(values), "p50_ms": round(float(np.percentile(ms, 50)), 1),
            "p95_ms": round(float(np.percentile(ms, 95)), 1), "p99_ms": round(float(np.percentile(ms, 99)), 1),
            "max_ms": round(float(ms.max()), 1)}


async def _reader(http: httpx.AsyncClient, sid: str, until: float, lat: list[float], errors: list[int]) -> None:
    while time.monotonic() < until:
        t0 = time.perf_counter()
        r = await http.get(f"/v1/sessions/{sid}")
        if r.status_code != 200:
            errors.append(r.status_code)
            continue
        lat.append(time.perf_counter() - t0)


async def _writer(http: httpx.AsyncClient, chunk: bytes, until: float, lat: list[float], errors: list[int],
                  delay_s: float = 0.0) -> None:
    sid = (await http.post("/v1/sessions", json={})).json()["session_id"]
    await asyncio.sleep(delay_s)  # --stagger: consultations do not send their chunks in step
    seq = 0
    while time.monotonic() < until:
        t0 = time.perf_counter()
        r = await http.put(f"/v1/sessions/{sid}/audio/{seq}", content=chunk, headers={"Content-Type": "audio/wav"})
        if r.status_code == 202:
            lat.append(time.perf_counter() - t0)
            seq += 1
        else:
            errors.append(r.status_code)
        if seq % 4 == 0:
            await http.post(f"/v1/sessions/{sid}/segments", json={"segments": SEGMENTS[:2]})
        await asyncio.sleep(max(0.0, CHUNK_S - (time.perf_counter() - t0)))


async def _level(url: str, sid: str, clients: int, writers: int, seconds: float, chunk: bytes,
                 readers: str = "httpx", stagger: bool = False, think_ms: int = 0, read_url: str | None = None) -> dict:
    """One window: ``writers`` sessions written in real time while ``clients`` read for ``seconds``
    (``read_url``, with ``wrk``: another URL read under the same writes; default the state of ``sid``)."""
    auth = {"Authorization": f"Bearer {TOKENS['alice']}"}
    limits = httpx.Limits(max_connections=clients + writers + 4)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits, headers=auth) as http:
        until = time.monotonic() + seconds
        reads: list[float] = []
        puts: list[float] = []
        errors: list[int] = []
        t0 = time.perf_counter()
        writing = [_writer(http, chunk, until, puts, errors, k * CHUNK_S / writers if stagger else 0.0)
                   for k in range(writers)]
        if readers == "wrk":
            target = read_url or f"{url}/v1/sessions/{sid}"
            result, *_ = await asyncio.gather(run_wrk(target, clients, seconds, auth, think_ms), *writing)
            summary = {"reads_per_s": result["requests_per_s"],
                       "reads": {k: result[k] for k in ("requests", "p50_ms", "p90_ms", "p99_ms")},
                       "read_errors": result["errors"]}
        else:
            await asyncio.gather(*(_reader(http, sid, until, reads, errors) for _ in range(clients)), *writing)
            summary = {"reads_per_s": round(len(reads) / (time.perf_counter() - t0), 1), "reads": _pct(reads)}
    return {"clients": clients, "writers": writers, "readers": readers, **summary,
            "writer_puts": _pct(puts), "errors": sorted(set(errors))}


def read_session(url: str, chunk: bytes) -> tuple[str, bytes]:
    """The session the readers read (``SEGMENTS`` posted and processed) and its state body, after a short
    warm-up window of reads and writes."""
    http = httpx.Client(base_url=url, timeout=60, headers={"Authorization": f"Bearer {TOKENS['alice']}"})
    sid = http.post("/v1/sessions", json={}).json()["session_id"]
    http.post(f"/v1/sessions/{sid}/segments", json={"segments": SEGMENTS})
    deadline = time.monotonic() + 120
    while len((state := http.get(f"/v1/sessions/{sid}")).json()["segments"]) < len(SEGMENTS):
        assert time.monotonic() < deadline, "the read session's segments never arrived"
        time.sleep(0.5)
    asyncio.run(_level(url, sid, 4, 2, 3.0, chunk))  # warm-up
    return sid, state.content


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engines", choices=("fake", "real"), default="fake")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--writers", type=int, default=16)
    parser.add_argument("--levels", default="1,16,64")
    parser.add_argument("--label", default="")
    parser.add_argument("--redis", action="store_true", help="the session store on a real redis-server")
    parser.add_argument("--readers", choices=("httpx", "wrk"), default="httpx",
                        help="the readers' client: httpx coroutines in this process, or wrk (C, little CPU)")
    parser.add_argument("--haproxy", action="store_true",
                        help="RAY_SERVE_ENABLE_HA_PROXY=1: Serve's HAProxy in front of direct-ingress replicas")
    parser.add_argument("--stagger", action="store_true",
                        help="writers start 2 s / writers apart instead of all sending their chunks at once")
    parser.add_argument("--think-ms", type=int, default=0,
                        help="with --readers wrk: each reader waits this long after each answer (a polling screen)")
    parser.add_argument("--ingress-replicas", type=int, default=None, help="resources.ingress.num_replicas")
    parser.add_argument("--no-server-reads", action="store_true",
                        help="http.server_state_reads: false (state reads through Serve's request handling)")
    args = parser.parse_args()
    if args.readers == "wrk":
        require_wrk()
    if args.haproxy:
        os.environ["RAY_SERVE_ENABLE_HA_PROXY"] = "1"
    engines, overrides = None, {"notes": {"enabled": False}}
    if args.engines == "fake":
        from bench.harness.fakes.asr import encoded_wav
        from bench.harness.fakes.graph import FAKES

        engines, overrides = FAKES, {}
        chunk = encoded_wav(1, CHUNK_S)
    else:
        import io
        import wave

        from bench.harness.data import tone
        from bench.harness.fakes.asr import RATE
        buf = io.BytesIO()
        with wave.open(buf, "wb") as w:
            w.setnchannels(1), w.setsampwidth(2), w.setframerate(RATE)
            w.writeframes((tone(float(CHUNK_S)) * 8000).astype(np.int16).tobytes())
        chunk = buf.getvalue()
    if args.ingress_replicas:
        overrides = {**overrides, "resources": {"ingress": {"num_replicas": args.ingress_replicas}}}
    if args.no_server_reads:
        overrides = {**overrides, "http": {"server_state_reads": False}}
    app = start_serve_app(overrides, engines=engines, redis=args.redis)
    try:
        sid, _ = read_session(app.url, chunk)
        levels = [asyncio.run(_level(app.url, sid, int(n), args.writers, args.seconds, chunk, args.readers,
                                      args.stagger, args.think_ms))
                  for n in args.levels.split(",")]
    finally:
        stop_serve_app()
    report = {"engines": args.engines, "store": "redis" if args.redis else "disk", "seconds": args.seconds,
              "front": "haproxy" if args.haproxy else "serve_proxy", "readers": args.readers,
              "ingress_replicas": args.ingress_replicas or 1, "writers_staggered": args.stagger,
              "server_state_reads": not args.no_server_reads,
              "think_ms": args.think_ms,
              "throughput_optimized": os.environ.get("RAY_SERVE_THROUGHPUT_OPTIMIZED") == "1",
              "levels": levels}
    RESULTS.mkdir(exist_ok=True)
    name = f"state_reads_{args.label}.json" if args.label else "state_reads.json"
    (RESULTS / name).write_text(json.dumps(report, indent=1))
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
