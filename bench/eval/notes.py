"""``python -m bench eval notes``: ROUGE of generated notes on ACI-Bench and MTS-Dialog dev data.

Each dialogue is split into segments (roles from the ``[doctor]`` /
``Doctor:`` tags), masked with the same PII engine as the service, and turned
into a note by the same :class:`~serve_app.engines.notes.writer.NoteWriter`
(vLLM in-process, no Serve).  A note is rendered as its items' text, one per
line, and scored with ``rouge-score`` (F1, Porter stemming; ROUGE-1, ROUGE-2,
ROUGE-Lsum) against the reference note (ACI-Bench: the full note; MTS-Dialog:
its one section).  In the same run: the transcript copied as the note, the
candidate facts alone (no LLM), the schema-valid rate of the model's answers,
and a seeded sample of (item, cited segments) pairs to label for citation
precision (``--label-file``: pairs with ``"label": true/false`` are scored).
"""
from __future__ import annotations

import asyncio
import json
import random
import re
from pathlib import Path
from typing import Any

from serve_app.contracts import SECTIONS

__all__ = ["dialogue_segments", "dev_records", "render", "rouge", "evaluate"]

_TAG = re.compile(r"^\s*(?:\[(?P<a>[a-z_ ]+)\]|(?P<b>Doctor|Patient|Guest_family|Guest_clinician)\s*:)\s*(?P<text>.*)$",
                  re.IGNORECASE)


def dialogue_segments(dialogue: str) -> list[dict[str, Any]]:
    """``[doctor] ...`` / ``Doctor: ...`` lines -> segments ``{"id", "role", "text"}``."""
    out: list[dict[str, Any]] = []
    for line in dialogue.splitlines():
        m = _TAG.match(line)
        if not m:
            if out and line.strip():
                out[-1]["text"] += " " + line.strip()
            continue
        tag = (m.group("a") or m.group("b")).lower()
        role = tag if tag in ("doctor", "patient") else None
        if m.group("text").strip():
            out.append({"id": f"s{len(out)}", "role": role, "text": m.group("text").strip()})
    return out


def render(note: dict[str, Any]) -> str:
    return "\n".join(item["text"] for section in SECTIONS for item in note.get(section, []))


def rouge(predictions: list[str], references: list[str]) -> dict[str, float]:
    """Mean F1 x 100 of ROUGE-1, ROUGE-2 and ROUGE-Lsum (stemming)."""
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeLsum"], use_stemmer=True)
    totals = {"rouge1": 0.0, "rouge2": 0.0, "rougeLsum": 0.0}
    for pred, ref in zip(predictions, references):
        scores = scorer.score(ref, pred)
        for key in totals:
            totals[key] += scores[key].fmeasure
    n = max(1, len(predictions))
    return {key: round(100 * value / n, 2) for key, value in totals.items()}


def _mask(records: list[dict[str, Any]], pii_config) -> None:
    from serve_app.engines.pii.engine import PiiEngine, mask_segments

    engine = PiiEngine.from_config(pii_config)
    for rec in records:
        rec["segments"], _ = mask_segments(engine, rec["segments"], {})


def _citation_sample(records: list[dict[str, Any]], key: str, size: int, seed: int) -> list[dict[str, Any]]:
    pairs = []
    for rec in records:
        text = {s["id"]: s["text"] for s in rec["segments"]}
        for section in SECTIONS:
            for item in rec[key]["note"][section]:
                for cid in item["citations"]:
                    pairs.append({"record": rec["id"], "section": section, "item": item["text"],
                                  "citation": cid, "segment": text[cid]})
    random.Random(seed).shuffle(pairs)
    return pairs[:size]


async def _generate(writer, records: list[dict[str, Any]], key: str, concurrency: int) -> None:
    gate = asyncio.Semaphore(concurrency)

    async def one(rec):
        async with gate:
            rec[key] = await writer.write(rec["segments"])

    await asyncio.gather(*(one(r) for r in records))


def _validity(records: list[dict[str, Any]], key: str) -> dict[str, Any]:
    stats = [r[key]["stats"] for r in records]
    asked = sum(s["sections_asked"] for s in stats)
    valid = sum(s["sections_schema_valid"] for s in stats)
    answers = sum(s["answers"] for s in stats)
    return {
        "schema_valid_rate": round(sum(s["answers_schema_valid"] for s in stats) / answers, 4) if answers else None,
        "answers": answers,
        "sections_asked": asked,
        "sections_all_valid": valid,
        "items_kept": sum(s["items_kept"] for s in stats),
        "items_repaired": sum(s["items_repaired"] for s in stats),
        "items_dropped": sum(s["items_dropped"] for s in stats),
        "items_fallback": sum(s["items_fallback"] for s in stats),
        "empty_notes": sum(1 for r in records if not render(r[key]["note"])),
    }


def dev_records(data_dir: Path, pii_config, limit: int | None = None,
                mask: bool = True) -> dict[str, list[dict[str, Any]]]:
    """``{"aci_bench": [...], "mts_dialog": [...]}`` of ``{id, reference, segments}``, segments masked."""
    datasets = {}
    for name, filename in (("aci_bench", "aci_bench.jsonl"), ("mts_dialog", "mts_dialog.jsonl")):
        rows = [json.loads(line) for line in (data_dir / filename).read_text().splitlines() if line.strip()]
        rows = rows[:limit] if limit else rows
        datasets[name] = [{"id": r["id"], "reference": r["note"], "segments": dialogue_segments(r["dialogue"])}
                          for r in rows]
        if mask:
            _mask(datasets[name], pii_config)
    return datasets


async def evaluate(data_dir: Path, modes: list[str], notes_config, pii_config, model_cache: str,
                   limit: int | None = None, mask: bool = True, concurrency: int = 4,
                   sample_size: int = 40, seed: int = 0) -> dict[str, Any]:
    """Run the whole evaluation; returns a JSON-able report (see module docstring)."""
    from deployments.notes import build_note_engine, writer_settings
    from serve_app.engines.notes.writer import NoteWriter

    datasets = dev_records(data_dir, pii_config, limit, mask)
    engine = build_note_engine(notes_config, model_cache, "cpu")
    report: dict[str, Any] = {"config": {"model": notes_config.model, "backend": notes_config.backend,
                                         "modes": modes, "masked": mask}, "datasets": {}}
    try:
        for name, records in datasets.items():
            refs = [r["reference"] for r in records]
            out: dict[str, Any] = {"n": len(records)}
            out["copy_transcript"] = rouge(["\n".join(s["text"] for s in r["segments"]) for r in records], refs)
            facts_writer = NoteWriter(None)
            out["facts_only"] = rouge([render(facts_writer.facts_note(r["segments"])) for r in records], refs)
            for mode in modes:
                settings = writer_settings(notes_config.model_copy(update={"mode": mode}))
                writer = NoteWriter(engine, settings=settings)
                await _generate(writer, records, mode, concurrency)
                out[f"llm_{mode}"] = {**rouge([render(r[mode]["note"]) for r in records], refs),
                                      **_validity(records, mode)}
            out["citation_sample"] = _citation_sample(records, modes[0], sample_size // 2, seed)
            out["examples"] = [{"id": r["id"], **{m: r[m]["note"] for m in modes}} for r in records[:2]]
            report["datasets"][name] = out
    finally:
        await engine.close()
    return report


def citation_precision(label_file: Path) -> dict[str, Any]:
    """Precision over labelled pairs (``"label": true`` when the segment holds the item's content)."""
    rows = [json.loads(line) for line in label_file.read_text().splitlines() if line.strip()]
    labelled = [r for r in rows if isinstance(r.get("label"), bool)]
    good = sum(1 for r in labelled if r["label"])
    return {"labelled": len(labelled), "supported": good,
            "precision": round(good / len(labelled), 4) if labelled else None}
