"""Validate, repair or drop the model's items so every citation is real and supportive.

In ``section`` mode an item from the model is kept only if it can be tied to transcript segments
that hold its content:

* citations naming a fact label expand to all of that fact's segments;
  citations to ids that do not exist in the session are removed;
* an item whose remaining citations share no content word with it is
  *repaired*: it cites the candidate fact (of any section) with the best
  content-word overlap, if that overlap reaches ``min_support``;
* otherwise (and for empty or repeated text) the item is dropped.

In ``fact`` mode (:meth:`CitationChecker.check_rewrite`) an item rewrites
one fact and cites that fact's segments; unless it shares ``min_support`` of
its content words with the fact (the model added or lost things) it is
dropped, or replaced by the fact's own words when fallback is on.
The counts of each outcome are returned so evaluation can report them.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from serve_app.engines.notes.facts import Fact, content_words, negated

__all__ = ["CitationChecker", "SectionResult", "support"]


def support(item_text: str, source_text: str) -> float:
    """Share of the item's content words that appear in ``source_text`` (0..1)."""
    words = set(content_words(item_text))
    if not words:
        return 0.0
    return len(words & set(content_words(source_text))) / len(words)


@dataclass
class SectionResult:
    items: list[dict[str, Any]] = field(default_factory=list)
    schema_valid: bool = True
    kept: int = 0
    repaired: int = 0
    dropped: int = 0
    fallback: int = 0
    bad_citations: int = 0
    answers: int = 0
    answers_valid: int = 0


class CitationChecker:
    """Turns raw model output for a section into checked items.

    Args:
        segments: the session's masked segments (``id`` -> ``text``).
        facts: every candidate fact shown to the model (all sections).
        min_support: minimum content-word overlap for a repaired citation.
    """

    def __init__(self, segments: list[dict[str, Any]], facts: list[Fact], min_support: float = 0.5):
        self._text = {s["id"]: s.get("text", "") for s in segments}
        self._facts = facts
        self._by_label: dict[str, list[Fact]] = {}
        for f in facts:
            self._by_label.setdefault(f.label, []).append(f)
        self._min_support = min_support

    def _expand(self, citations: list[Any]) -> tuple[list[str], int]:
        ids, bad = [], 0
        for c in citations:
            c = str(c).strip().strip("[]")
            group = [sid for f in self._by_label.get(c, []) for sid in f.segment_ids] \
                or ([c] if c in self._text else [])
            if not group:
                bad += 1
            ids.extend(i for i in group if i not in ids)
        return ids, bad

    def _best_fact(self, text: str) -> tuple[list[str], float]:
        best, score = None, 0.0
        for f in self._facts:
            s = support(text, f.text)
            if s > score:
                best, score = f, s
        return (list(best.segment_ids) if best else []), score

    def check_rewrite(self, raw: str | dict | None, fact: Fact, result: SectionResult, seen: set[str],
                      fallback: bool = False) -> None:
        """Check one rewritten fact (``{"text": ...}``): it cites the fact's segments, must
        share at least ``min_support`` of its content words with the fact, and must negate
        exactly when the fact does ("No chest pain" rewritten as "Chest pain" is a drift).
        Otherwise the item is dropped, or with ``fallback`` the fact's own (masked) words
        are kept instead."""
        result.answers += 1
        text = None
        try:
            data = json.loads(raw) if isinstance(raw, str) else raw
            text = " ".join(str(data["text"]).split())
            result.answers_valid += 1
        except (ValueError, KeyError, TypeError):
            result.schema_valid = False
        key = " ".join(content_words(text or ""))
        if key in seen:
            result.dropped += 1
            return
        if text is None or not key or support(text, fact.text) < self._min_support \
                or negated(text) != negated(fact.text):
            key = " ".join(content_words(fact.text))
            if not fallback or key in seen:
                result.dropped += 1
                return
            text = fact.text
            result.fallback += 1
        else:
            result.kept += 1
        seen.add(key)
        result.items.append({"text": text, "citations": list(fact.segment_ids)})

    def check(self, raw: str | dict) -> SectionResult:
        """Parse ``raw`` (``{"items": [...]}``) and check each item."""
        result = SectionResult(answers=1)
        try:
            data = json.loads(raw) if isinstance(raw, str) else raw
            items = data["items"]
            if not isinstance(items, list):
                raise TypeError("items is not a list")
        except (ValueError, KeyError, TypeError):
            result.schema_valid = False
            return result
        result.answers_valid = 1
        seen: set[str] = set()
        for item in items:
            if not isinstance(item, dict):
                result.schema_valid = False
                result.dropped += 1
                continue
            text = " ".join(str(item.get("text", "")).split())
            key = " ".join(content_words(text))
            if not key or key in seen:
                result.dropped += 1
                continue
            citations = item.get("citations") if isinstance(item.get("citations"), list) else []
            ids, bad = self._expand(citations)
            result.bad_citations += bad
            if ids and support(text, " ".join(self._text[i] for i in ids)) > 0:
                result.kept += 1
            else:
                ids, score = self._best_fact(text)
                if score < self._min_support:
                    result.dropped += 1
                    continue
                result.repaired += 1
            seen.add(key)
            result.items.append({"text": text, "citations": ids})
        return result
