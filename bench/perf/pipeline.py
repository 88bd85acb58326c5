"""Bench: API overhead per 2 s chunk, chunk-to-words lag, concurrent real-time
sessions, and process RSS, all measured in one run against the real Serve app.

    python -m bench.perf.pipeline  (or `make bench`)

Ratios compare the API with bare engine calls made in the same run on the same
machine, so the shared machine's noise hits both sides.
"""
from __future__ import annotations

import asyncio
import json
import statistics
import time

import httpx
import numpy as np

from bench.harness.data import DEV, RESULTS, librispeech_clips, wav_chunks
from bench.harness.serve import TOKENS, start_serve_app, stop_serve_app

OUT = RESULTS


def _pct(values, q):
    return float(np.percentile(values, q)) if values else float("nan")


def bare_chunk_costs(chunks: list[bytes]) -> list[float]:
    """Engine-only cost of each chunk step: decode + ASR on the same buffer + PII."""
    from serve_app.engines.asr.models import resolve_whisper_model
    from serve_app.engines.asr.whisper import FasterWhisperEngine
    from serve_app.engines.audio import decode_audio
    from serve_app.engines.pii.engine import PiiEngine, mask_segments

    asr = FasterWhisperEngine(resolve_whisper_model("tiny.en", "/tmp"), beam_size=1)
    pii = PiiEngine()
    costs = []
    audio = np.zeros(0, dtype=np.float32)
    for chunk in chunks:
        t0 = time.perf_counter()
        samples = decode_audio(chunk, "audio/wav").mono()
        audio = np.concatenate([audio, samples])[-16000 * 6:]  # ~ tail + context the pipeline decodes
        segs = asr.transcribe(audio)
        mask_segments(pii, [{"text": s.text} for s in segs], {})
        costs.append(time.perf_counter() - t0)
    return costs


async def api_chunk_lags(client: httpx.AsyncClient, chunks: list[bytes]) -> tuple[list[float], list[float]]:
    """Per chunk: PUT round trip, and time from 202 until the chunk is processed."""
    sid = (await client.post("/v1/sessions", json={})).json()["session_id"]
    puts, lags = [], []
    for seq, chunk in enumerate(chunks):
        t0 = time.perf_counter()
        r = await client.put(f"/v1/sessions/{sid}/audio/{seq}", content=chunk, headers={"Content-Type": "audio/wav"})
        assert r.status_code == 202
        t1 = time.perf_counter()
        puts.append(t1 - t0)
        while (await client.get(f"/v1/sessions/{sid}")).json()["chunks"]["processed"] < seq + 1:
            await asyncio.sleep(0.01)
        lags.append(time.perf_counter() - t1)
    return puts, lags


async def realtime_sessions(client: httpx.AsyncClient, n: int, chunks: list[bytes], rounds: int) -> dict:
    """``n`` sessions each sending one 2 s chunk every 2 s; backlog at the end."""
    sids = [(await client.post("/v1/sessions", json={})).json()["session_id"] for _ in range(n)]

    async def speaker(sid):
        for seq in range(rounds):
            t0 = time.perf_counter()
            r = await client.put(f"/v1/sessions/{sid}/audio/{seq}", content=chunks[seq % len(chunks)],
                                 headers={"Content-Type": "audio/wav"})
            assert r.status_code == 202, r.text
            await asyncio.sleep(max(0.0, 2.0 - (time.perf_counter() - t0)))

    await asyncio.gather(*(speaker(s) for s in sids))
    states = [(await client.get(f"/v1/sessions/{s}")).json()["chunks"] for s in sids]
    backlog = [c["received"] - c["processed"] for c in states]
    return {"sessions": n, "chunks_each": rounds, "max_backlog_chunks": max(backlog),
            "mean_backlog_chunks": statistics.mean(backlog)}


def total_rss_mb() -> float:
    import psutil

    total = 0
    for p in psutil.process_iter(["name", "cmdline", "memory_info"]):
        cmd = " ".join(p.info["cmdline"] or [])
        if "ray" in cmd or "serve" in cmd or p.pid == psutil.Process().pid:
            total += p.info["memory_info"].rss if p.info["memory_info"] else 0
    return total / 2**20


async def main() -> dict:
    clip = librispeech_clips()[0]
    chunks = wav_chunks(DEV / clip["wav"], 2.0)
    t0 = time.perf_counter()
    app = start_serve_app()
    results = {"cold_start_in_process_s": round(time.perf_counter() - t0, 1)}
    try:
        async with httpx.AsyncClient(base_url=app.url, timeout=120,
                                     headers={"Authorization": f"Bearer {TOKENS['alice']}"}) as client:
            await api_chunk_lags(client, chunks)  # warm-up
            puts, lags = [], []
            for _ in range(3):
                p, lag = await api_chunk_lags(client, chunks)
                puts += p
                lags += lag
            bare = []
            for _ in range(3):
                bare += bare_chunk_costs(chunks)
            results["put_202_ms"] = {"p50": round(_pct(puts, 50) * 1e3, 1), "p95": round(_pct(puts, 95) * 1e3, 1)}
            results["chunk_202_to_words_ms"] = {"p50": round(_pct(lags, 50) * 1e3, 1),
                                                "p95": round(_pct(lags, 95) * 1e3, 1)}
            results["bare_engine_step_ms"] = {"p50": round(_pct(bare, 50) * 1e3, 1),
                                              "p95": round(_pct(bare, 95) * 1e3, 1)}
            results["api_over_bare_ratio_p50"] = round(_pct(lags, 50) / _pct(bare, 50), 2)
            results["rss_mb_all_processes"] = round(total_rss_mb())
            results["realtime"] = []
            for n in (1, 2, 4, 6, 8):
                row = await realtime_sessions(client, n, chunks, rounds=10)
                results["realtime"].append(row)
                print(json.dumps(row))
                if row["max_backlog_chunks"] > 3:
                    break
    finally:
        stop_serve_app()
    return results


if __name__ == "__main__":
    res = asyncio.run(main())
    OUT.mkdir(exist_ok=True)
    (OUT / "pipeline.json").write_text(json.dumps(res, indent=2))
    print(json.dumps(res, indent=2))
