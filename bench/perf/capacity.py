"""Bench: how many live consultations one box serves (issue 16), against the real Serve app.

    . scripts/env.sh && python -m bench.perf.capacity [--levels 1,2,4,8,12] [--seconds 40]

For each level N, N sessions stream the synthetic consultation audio of ``data/dev`` in real time
(one 2 s chunk every 2 s, each session from its own consultation and offset) with the default
config (notes and guardrails on), while one event-stream reader per session records every event
as the clinician's page would.  All latencies come from the events' own timestamps (no polling):

* chunk lag: ``chunk_processed.ts - chunk_received.ts``, p50/p95 over every chunk;
* backlog: chunks received but not processed when streaming stops (the worst session);
* word latency, from the moment the chunk holding the word's end was stored (its 202): committed
  (the event that commits the word) and first shown (the first ``words_tentative`` or commit
  event holding a word at that time), p50/p95;
* the same lags for the first, middle and last third of each session's chunks (``by_third_of_session``);
* CPU share per stage while streaming (each process's CPU time / wall time / 2 cores),
  processes told apart by their titles (Serve replicas, vLLM's engine core, Ray, the upload decoder's
  sandbox, this bench's own process), and the whole machine's busy share (``cpu_busy_machine``);
* after streaming, every session finishes at once: time from ``finish`` to the final note.

Results: ``bench/results/capacity[_<label>].json``.
"""
from __future__ import annotations

import argparse
import asyncio
import io
import json
import time
from collections import defaultdict

import httpx
import numpy as np
import soundfile as sf

from bench.harness.data import DEV, save_result
from bench.harness.serve import TOKENS, start_serve_app, stop_serve_app

CHUNK_S = 2.0
RATE = 16000
#: process-title fragment -> stage name (first match wins)
STAGES = [("ServeReplica:scribe:ASR", "asr"), ("ServeReplica:scribe:PII", "pii"),
          ("ServeReplica:scribe:Roles", "roles"), ("ServeReplica:scribe:Pipeline", "pipeline"),
          ("ServeReplica:scribe:Ingress", "ingress"), ("ServeReplica:scribe:Notes", "notes_replica"),
          ("EngineCore", "vllm_engine"), ("VLLM", "vllm_engine"),
          ("ServeReplica:scribe:Guardrails", "guardrails"), ("ServeReplica:scribe:Flywheel", "flywheel"),
          ("SessionStore", "store"), ("ProxyActor", "serve_proxy"), ("ServeController", "serve_controller"),
          ("redis-server", "redis"), ("raylet", "ray_system"), ("gcs_server", "ray_system"),
          ("multiprocessing.spawn", "decoder_sandbox"), ("bench.perf.capacity", "bench_driver")]


def _pct(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    ms = np.array(values) * 1000
    return {"n": len(values), "p50_ms": round(float(np.percentile(ms, 50))),
            "p95_ms": round(float(np.percentile(ms, 95))), "max_ms": round(float(ms.max()))}


def session_audio(k: int, seconds: float) -> list[bytes]:
    """``seconds`` of consultation audio for session ``k`` as 2 s WAV chunks."""
    clips = sorted((DEV / "consultation_audio").glob("*.synth.flac"))
    audio, rate = sf.read(clips[k % len(clips)], dtype="int16")
    start = int((k // len(clips)) * 17.0 * rate) % max(1, len(audio) - int(seconds * rate))
    audio = audio[start:start + int(seconds * rate)]
    out = []
    for i in range(0, len(audio), int(CHUNK_S * rate)):
        buf = io.BytesIO()
        sf.write(buf, audio[i:i + int(CHUNK_S * rate)], rate, format="WAV", subtype="PCM_16")
        out.append(buf.getvalue())
    return out


def cpu_by_stage() -> dict[str, float]:
    """CPU seconds (user + system) used so far by each stage's processes, and by the whole machine
    (``machine``: every core's busy time, so what no stage accounts for shows as ``machine - stages``)."""
    import psutil

    out: dict[str, float] = defaultdict(float)
    t = psutil.cpu_times()
    out["machine"] = sum(t) - t.idle - getattr(t, "iowait", 0.0)
    for p in psutil.process_iter(["cmdline", "cpu_times"]):
        title = " ".join(p.info["cmdline"] or []) or "[kernel threads]"
        stage = next((s for frag, s in STAGES if frag in title), f"other: {title[:60]}")
        if p.info["cpu_times"] is not None:
            out[stage] += p.info["cpu_times"].user + p.info["cpu_times"].system
    return out


async def _reader(http: httpx.AsyncClient, sid: str, events: list[dict], done: asyncio.Event) -> None:
    """Follow ``sid``'s event stream, stamping each event with when it arrived."""
    after = 0
    while not done.is_set():
        try:
            async with http.stream("GET", f"/v1/sessions/{sid}/events", params={"after": after},
                                   timeout=httpx.Timeout(30, read=None)) as r:
                async for line in r.aiter_lines():
                    if line.startswith("data:"):
                        event = json.loads(line[5:])
                        if event.get("id"):
                            after = event["id"]
                        events.append({**event, "received": time.time()})
                        if event["type"] in ("finished", "deleted"):
                            done.set()
                            return
        except httpx.HTTPError:
            await asyncio.sleep(0.5)


async def _speaker(http: httpx.AsyncClient, sid: str, chunks: list[bytes], offset_s: float) -> None:
    await asyncio.sleep(offset_s)  # sessions do not all send on the same beat
    t0 = time.monotonic()
    for seq, chunk in enumerate(chunks):
        for _ in range(20):
            r = await http.put(f"/v1/sessions/{sid}/audio/{seq}", content=chunk, headers={"Content-Type": "audio/wav"})
            if r.status_code == 202:
                break
            await asyncio.sleep(float(r.headers.get("Retry-After", 1)))
        await asyncio.sleep(max(0.0, t0 + (seq + 1) * CHUNK_S - time.monotonic()))


def word_latencies(events: list[dict]) -> tuple[list[float], list[float], list[int]]:
    """(committed, first shown) latency of every committed word, from its chunk's ``chunk_received``,
    and the seq of that chunk."""
    received = {e["data"]["seq"]: e["ts"] for e in events if e["type"] == "chunk_received"}
    shown: list[tuple[float, float, float]] = []  # (word midpoint, event ts, is_commit)
    committed: list[tuple[dict, float]] = []
    for e in events:
        if e["type"] == "words_tentative":
            shown += [((w["start"] + w["end"]) / 2, e["ts"], 0) for w in e["data"]["words"]]
        elif e["type"] in ("chunk_processed", "asr_flushed"):
            for seg in e["data"].get("segments", []):
                for w in seg.get("words") or []:
                    committed.append((w, e["ts"]))
                    shown.append(((w["start"] + w["end"]) / 2, e["ts"], 1))
    commit_lat, first_lat, seqs = [], [], []
    for w, ts in committed:
        seq = int(w["end"] // CHUNK_S)
        if seq not in received:
            continue
        mid = (w["start"] + w["end"]) / 2
        first = min((t for m, t, _ in shown if abs(m - mid) <= 0.3 and t <= ts), default=ts)
        commit_lat.append(max(0.0, ts - received[seq]))
        first_lat.append(max(0.0, first - received[seq]))
        seqs.append(seq)
    return commit_lat, first_lat, seqs


def by_third(values: list[float], seqs: list[int], chunks: int) -> list[dict]:
    """p50/p95 of ``values`` for the first, middle and last third of each session's chunks (does the
    lag grow as sessions go on, or is it where the audio is?)."""
    return [_pct([v for v, q in zip(values, seqs) if k * chunks <= 3 * q < (k + 1) * chunks]) for k in range(3)]


COST_STAGES = ("asr", "pii", "roles", "notes", "guardrails")  # the app's stage_busy_seconds_total tags


async def _metrics(url: str | None, settle_s: float = 12.0) -> dict | None:
    """The app's counters once Ray has exported them (it does every few seconds)."""
    if url is None:
        return None
    from bench.harness.metrics import scrape

    await asyncio.sleep(settle_s)
    return (await asyncio.to_thread(scrape, url))[1]


def stage_cost(before: dict | None, after: dict | None) -> dict | None:
    """Busy seconds of each stage per minute of audio received, from the app's own metrics."""
    if before is None or after is None:
        return None
    from bench.harness.metrics import total

    audio = total(after, "ray_scribe_audio_seconds_total") - total(before, "ray_scribe_audio_seconds_total")
    if audio <= 0:
        return None
    busy = {s: total(after, "ray_scribe_stage_busy_seconds_total", stage=s)
            - total(before, "ray_scribe_stage_busy_seconds_total", stage=s) for s in COST_STAGES}
    return {"audio_s": round(audio, 1), **{s: round(60 * b / audio, 2) for s, b in busy.items()}}


def _timeline(events: dict[str, list[dict]]) -> list[dict]:
    """Every session's events as ``{sid, type, ts, seq?, final?}`` (no transcript text), time-ordered."""
    rows = [{"sid": k, "type": e["type"], "ts": e["ts"], "seq": (e.get("data") or {}).get("seq"),
             "final": (e.get("data") or {}).get("final")} for k, (_, evs) in enumerate(events.items()) for e in evs]
    return sorted(rows, key=lambda r: r["ts"])


async def level(url: str, n: int, seconds: float, finish_timeout_s: float = 300.0,
                metrics_url: str | None = None, timeline_to: str | None = None) -> dict:
    limits = httpx.Limits(max_connections=4 * n + 8)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits,
                                 headers={"Authorization": f"Bearer {TOKENS['alice']}"}) as http:
        counters0 = await _metrics(metrics_url)
        sids = [(await http.post("/v1/sessions", json={})).json()["session_id"] for _ in range(n)]
        events = {sid: [] for sid in sids}
        done = {sid: asyncio.Event() for sid in sids}
        readers = [asyncio.create_task(_reader(http, sid, events[sid], done[sid])) for sid in sids]
        audio = [session_audio(k, seconds) for k in range(n)]
        chunks = max(len(a) for a in audio)
        cpu0, t0 = cpu_by_stage(), time.monotonic()
        await asyncio.gather(*(_speaker(http, sid, audio[k], (k % 4) * CHUNK_S / 4) for k, sid in enumerate(sids)))
        wall = time.monotonic() - t0
        cpu1 = cpu_by_stage()
        backlog = [(s := (await http.get(f"/v1/sessions/{sid}")).json()["chunks"])["received"] - s["processed"]
                   - len(s.get("failed") or []) for sid in sids]
        finish_at = {}
        for sid in sids:
            finish_at[sid] = time.time()
            await http.post(f"/v1/sessions/{sid}/finish", json={})
        try:
            await asyncio.wait_for(asyncio.gather(*(d.wait() for d in done.values())), timeout=finish_timeout_s)
        except asyncio.TimeoutError:
            pass
        for task in readers:
            task.cancel()
        counters1 = await _metrics(metrics_url)
    lags, lag_seqs, commit_lat, first_lat, word_seqs, note_s = [], [], [], [], [], []
    for sid, evs in events.items():
        recv = {e["data"]["seq"]: e["ts"] for e in evs if e["type"] == "chunk_received"}
        processed = [e for e in evs if e["type"] == "chunk_processed" and e["data"]["seq"] in recv
                     and e["ts"] < finish_at[sid]]
        lags += [e["ts"] - recv[e["data"]["seq"]] for e in processed]
        lag_seqs += [e["data"]["seq"] for e in processed]
        c, f, q = word_latencies([e for e in evs if e["ts"] < finish_at[sid]])
        commit_lat += c
        first_lat += f
        word_seqs += q
        final = [e["ts"] for e in evs if e["type"] == "note_updated" and e["data"].get("final")]
        if final:
            note_s.append(final[0] - finish_at[sid])
    if timeline_to:
        with open(timeline_to, "w") as out:
            out.writelines(json.dumps(r) + "\n" for r in _timeline(events))
    share = {stage: round((cpu1.get(stage, 0) - cpu0.get(stage, 0)) / wall / 2, 3) for stage in sorted(cpu1)}
    machine = share.pop("machine")
    others = sorted(((v, k[7:]) for k, v in share.items() if k.startswith("other: ")), reverse=True)
    share = {k: v for k, v in share.items() if not k.startswith("other: ")}
    return {"sessions": n, "streamed_s": round(wall, 1), "chunk_lag": _pct(lags),
            "backlog_max": max(backlog), "backlog_mean": round(float(np.mean(backlog)), 2),
            "committed_word_latency": _pct(commit_lat), "first_shown_word_latency": _pct(first_lat),
            "by_third_of_session": {"chunk_lag": by_third(lags, lag_seqs, chunks),
                                    "committed_word_latency": by_third(commit_lat, word_seqs, chunks),
                                    "first_shown_word_latency": by_third(first_lat, word_seqs, chunks)},
            "cpu_share_of_2_cores": share, "cpu_share_total": round(sum(share.values()), 3),
            "cpu_busy_machine": machine,  # every process, the bench's own readers and speakers included
            "cpu_share_other": round(sum(v for v, _ in others), 3),  # processes of no stage (kernel threads, Ray's
            "cpu_share_other_top": [[name, v] for v, name in others[:4]],  # dashboard and log monitor, CI, ...)
            "stage_busy_s_per_audio_min": stage_cost(counters0, counters1),  # from ray_scribe_* metrics
            "finish_to_final_note_s": {"n": len(note_s), "p50": round(float(np.median(note_s)), 1) if note_s else None,
                                       "max": round(max(note_s), 1) if note_s else None}}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--levels", default="1,2,4,8,12")
    parser.add_argument("--seconds", type=float, default=40.0, help="audio each session streams per level")
    parser.add_argument("--label", default="")
    parser.add_argument("--finish-timeout", type=float, default=300.0, help="seconds to wait for final notes")
    parser.add_argument("--overrides", default="{}", help="JSON merged into serve_config.yaml's args")
    parser.add_argument("--timeline", default=None,
                        help="write each level's events (type, time, seq; no text) to <this>_<N>.jsonl")
    args = parser.parse_args()
    app = start_serve_app(json.loads(args.overrides))
    rows = []
    try:
        asyncio.run(level(app.url, 1, 8.0))  # warm-up (model caches, first note)
        for n in (int(x) for x in args.levels.split(",")):
            row = asyncio.run(level(app.url, n, args.seconds, args.finish_timeout, app.metrics_url,
                                    f"{args.timeline}_{n}.jsonl" if args.timeline else None))
            rows.append(row)
            print(json.dumps(row), flush=True)
    finally:
        stop_serve_app()
    report = {"chunk_s": CHUNK_S, "seconds": args.seconds, "overrides": json.loads(args.overrides), "levels": rows}
    save_result("capacity", args.label, report)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
