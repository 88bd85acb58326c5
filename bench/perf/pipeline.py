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
RATE = 16000


def _pct(values, q):
    return float(np.percentile(values, q)) if values else float("nan")


def bare_engines() -> tuple:
    """The engines the pipeline calls, built once in this process: (ASR, PII, roles)."""
    from deployments.asr import build_asr_engine
    from serve_app.config import AsrConfig
    from serve_app.engines.pii.engine import PiiEngine
    from serve_app.engines.roles.engine import RoleEngine
    from serve_app.engines.roles.text_model import RoleTextModel

    return build_asr_engine(AsrConfig(), "/tmp"), PiiEngine(), RoleEngine(RoleTextModel.load())


def bare_chunk_costs(chunks: list[bytes], engines: tuple) -> list[float]:
    """Engine-only cost of each chunk step, as the pipeline runs it: decode, ASR on the buffer the
    pipeline decodes (the commit policy's cursor minus ``context_s`` to the end of the audio), the
    commit decision, PII on the committed segments, and roles (voice features + labelling against the
    segments so far)."""
    from serve_app.config import AsrConfig
    from serve_app.engines.asr.streaming import boundary_rule, decide_commit, segments_after
    from serve_app.engines.audio import decode_audio
    from serve_app.engines.pii.engine import mask_segments

    cfg = AsrConfig()
    asr, pii, roles = engines
    costs, context = [], []
    audio = np.zeros(0, dtype=np.float32)
    cursor, previous = 0.0, None
    for chunk in chunks:
        t0 = time.perf_counter()
        audio = np.concatenate([audio, decode_audio(chunk, "audio/wav").mono()])
        # the buffer the pipeline decodes: the committed context before the cursor, then everything after it
        end = len(audio) / RATE
        start = max(0.0, cursor - cfg.context_s)
        raw = asr.transcribe(audio[int(start * RATE):])
        decision = decide_commit(segments_after(raw, start, cursor), cursor, end, cfg.holdback_s, cfg.max_tail_s,
                                 False, previous=previous if cfg.local_agreement else None,
                                 confident=cfg.commit_probability, boundary=boundary_rule(cfg))
        cursor, previous = decision.cursor, decision.pending
        segs = [{"text": s.text, "start": s.start, "end": s.end, "role": None,
                 "words": [{"text": w.text, "start": w.start, "end": w.end} for w in s.words]}
                for s in decision.segments]
        masked, _ = mask_segments(pii, segs, {})
        roles.attach_audio(masked, audio[None, int(start * RATE):], RATE, start)
        labelled = roles.label(context, masked)
        context += [dict(seg, id=f"s{len(context) + i}") for i, seg in enumerate(labelled["segments"])]
        costs.append(time.perf_counter() - t0)
    return costs


async def api_chunk_lags(client: httpx.AsyncClient, chunks: list[bytes]) -> tuple[list[float], list[float]]:
    """Per chunk, sent one at a time: PUT round trip, and the server's own time from storing the chunk
    to committing its words (``chunk_processed.ts - chunk_received.ts``, read from the event stream:
    nothing polls the state while the chunk is processed)."""
    sid = (await client.post("/v1/sessions", json={})).json()["session_id"]
    received: dict[int, float] = {}
    processed: dict[int, asyncio.Future] = {seq: asyncio.get_running_loop().create_future()
                                            for seq in range(len(chunks))}

    async def follow():
        async with client.stream("GET", f"/v1/sessions/{sid}/events", timeout=httpx.Timeout(30, read=None)) as r:
            async for line in r.aiter_lines():
                if not line.startswith("data:"):
                    continue
                event = json.loads(line[5:])
                if event["type"] == "chunk_received":
                    received[event["data"]["seq"]] = event["ts"]
                elif event["type"] == "chunk_processed" and not processed[event["data"]["seq"]].done():
                    processed[event["data"]["seq"]].set_result(event["ts"])

    reader = asyncio.create_task(follow())
    puts, lags = [], []
    try:
        for seq, chunk in enumerate(chunks):
            t0 = time.perf_counter()
            r = await client.put(f"/v1/sessions/{sid}/audio/{seq}", content=chunk,
                                 headers={"Content-Type": "audio/wav"})
            assert r.status_code == 202
            puts.append(time.perf_counter() - t0)
            done_ts = await asyncio.wait_for(processed[seq], timeout=120)
            while seq not in received:
                await asyncio.sleep(0.01)
            lags.append(done_ts - received[seq])
    finally:
        reader.cancel()
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
    # Notes off on both sides: the ratio is the serving path's overhead over the engines it calls.
    app = start_serve_app({"notes": {"enabled": False}})
    results = {"cold_start_in_process_s": round(time.perf_counter() - t0, 1), "notes": "off on both sides"}
    try:
        async with httpx.AsyncClient(base_url=app.url, timeout=120,
                                     headers={"Authorization": f"Bearer {TOKENS['alice']}"}) as client:
            await api_chunk_lags(client, chunks)  # warm-up
            puts, lags = [], []
            for _ in range(3):
                p, lag = await api_chunk_lags(client, chunks)
                puts += p
                lags += lag
            engines = bare_engines()
            bare_chunk_costs(chunks, engines)  # warm-up, as the API side had
            bare = []
            for _ in range(3):
                bare += bare_chunk_costs(chunks, engines)
            results["put_202_ms"] = {"p50": round(_pct(puts, 50) * 1e3, 1), "p95": round(_pct(puts, 95) * 1e3, 1)}
            results["chunk_202_to_words_ms"] = {"p50": round(_pct(lags, 50) * 1e3, 1),
                                                "p95": round(_pct(lags, 95) * 1e3, 1)}
            results["bare_engine_step_ms"] = {"p50": round(_pct(bare, 50) * 1e3, 1),
                                              "p95": round(_pct(bare, 95) * 1e3, 1)}
            results["api_over_bare_ratio_p50"] = round(_pct(lags, 50) / _pct(bare, 50), 2)
            results["api_over_bare_ratio_p95"] = round(_pct(lags, 95) / _pct(bare, 95), 2)
            results["rss_mb_all_processes"] = round(total_rss_mb())
            results["realtime"] = []
            for n in (1, 2, 4):  # the full capacity table is bench.perf.capacity (notes on)
                row = await realtime_sessions(client, n, chunks, rounds=10)
                results["realtime"].append(row)
                print(json.dumps(row))
    finally:
        stop_serve_app()
    return results


if __name__ == "__main__":
    res = asyncio.run(main())
    OUT.mkdir(exist_ok=True)
    (OUT / "pipeline.json").write_text(json.dumps(res, indent=2))
    print(json.dumps(res, indent=2))
