"""Scoring role inference against gold roles (used by ``bench/eval_roles.py`` and the tests).

Two measures, as the roles issue asks:

* by segment, for transcripts posted as segments: the i-th returned segment
  against the i-th gold one (segment accuracy, and word-weighted accuracy:
  each segment counts as many times as it has words);
* by time overlap, for audio: every recognised word takes the gold role of
  the gold segment its midpoint falls in (or the nearest one), and counts
  right if the returned segment holding it has that role.
"""
from __future__ import annotations

from typing import Any, Sequence

__all__ = ["score_by_segment", "score_by_time", "gold_role_at"]


def _result(right: int, total: int, right_words: float, words: float, unlabelled: int) -> dict[str, Any]:
    return {"segments": total, "segment_accuracy": round(right / total, 4) if total else None,
            "words": int(words), "word_accuracy": round(right_words / words, 4) if words else None,
            "unlabelled": unlabelled}


def score_by_segment(gold: Sequence[dict], returned: Sequence[dict]) -> dict[str, Any]:
    """Gold and returned segments in the same order (text posted as segments is never split)."""
    if len(gold) != len(returned):
        raise ValueError(f"{len(returned)} segments returned for {len(gold)} posted")
    right = words = right_words = unlabelled = 0
    for g, r in zip(gold, returned):
        n = max(1, len(g["text"].split()))
        ok = r.get("role") == g["role"]
        right += ok
        words += n
        right_words += n * ok
        unlabelled += r.get("role") is None
    return _result(right, len(gold), right_words, words, unlabelled)


def gold_role_at(gold: Sequence[dict], t: float) -> str:
    """Role of the gold segment covering time ``t`` (or the nearest one)."""
    best, dist = gold[0]["role"], float("inf")
    for g in gold:
        d = 0.0 if g["start"] <= t <= g["end"] else min(abs(t - g["start"]), abs(t - g["end"]))
        if d < dist:
            best, dist = g["role"], d
    return best


def score_by_time(gold: Sequence[dict], returned: Sequence[dict]) -> dict[str, Any]:
    """Word-weighted accuracy of returned audio segments (with ``words``) by time overlap."""
    right = words = segs_right = unlabelled = 0
    for r in returned:
        ws = r.get("words") or []
        seg_gold = gold_role_at(gold, (r["start"] + r["end"]) / 2)
        segs_right += r.get("role") == seg_gold
        unlabelled += r.get("role") is None
        for w in ws:
            words += 1
            right += r.get("role") == gold_role_at(gold, (w["start"] + w["end"]) / 2)
    return _result(segs_right, len(returned), right, words, unlabelled)
