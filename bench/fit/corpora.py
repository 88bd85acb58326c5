"""Loading the doctor/patient corpora in ../shared/data for fitting and evaluation.

A *session* here is a list of segments ``{"text", "role", "start"?, "end"?}``
in spoken order.  PriMock57 roles are gold (one microphone per speaker);
ACI-Bench and MTS-Dialog roles come from the dialogue tags (ACI-Bench has
subsets with swapped tags, left uncorrected upstream).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable

from bench.eval.notes import dialogue_segments
from bench.harness.data import SHARED_DATA

__all__ = ["primock_sessions", "dialogue_sessions", "dialogue_keys", "SHARED_DATA"]



def primock_sessions(folder: Path) -> dict[str, list[dict[str, Any]]]:
    """``<id>.segments.jsonl`` files of ``folder`` -> {consultation id: segments} (empty texts dropped)."""
    out = {}
    for path in sorted(Path(folder).glob("*.segments.jsonl")):
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        segs = [{"text": r["text"].strip(), "role": r["role"], "start": r["start"], "end": r["end"]}
                for r in rows if r["text"].strip()]
        out[path.name.split(".")[0]] = segs
    return out


def dialogue_keys(paths: Iterable[Path]) -> set[str]:
    """Identity keys (first 200 characters of the dialogue) of the records in ``paths``."""
    keys = set()
    for path in paths:
        for line in Path(path).read_text().splitlines():
            if line.strip():
                keys.add(json.loads(line)["dialogue"][:200])
    return keys


def dialogue_sessions(path: Path, exclude: set[str] = frozenset()) -> dict[str, list[dict[str, Any]]]:
    """ACI-Bench / MTS-Dialog JSONL -> {record id: segments with a doctor/patient tag}.

    Records whose key is in ``exclude`` (e.g. the dev items that data/train
    also holds) are skipped; turns tagged otherwise (guest speakers) are dropped.
    """
    out = {}
    for line in Path(path).read_text().splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        if record["dialogue"][:200] in exclude:
            continue
        segs = [{"text": s["text"], "role": s["role"]} for s in dialogue_segments(record["dialogue"])
                if s["role"] in ("doctor", "patient")]
        if segs:
            out[str(record["id"])] = segs
    return out
