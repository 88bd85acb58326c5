"""Candidate facts: the transcript sentences a SOAP section can rest on.

A small model cannot read a whole consultation and stay grounded, so the note
writer gives it, per section, a short list of sentences picked from the masked
transcript by the cues in ``configs/note_sections.yaml`` (symptom words and
the patient's voice for *subjective*, exam/vitals/results for *objective*,
"consistent with"/"I think" for *assessment*, prescriptions/referrals/
follow-up for *plan*).  A doctor's question followed by the patient's short
answer becomes one fact, so "any fever?" + "no" is kept together.  Every fact
carries the ids of the segments it came from.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml

from serve_app.contracts import SECTIONS
from serve_app.engines.text import NOTE_STOP_WORDS, PLACEHOLDER, is_negation, split_sentences

__all__ = ["Fact", "FactConfig", "FactExtractor", "load_fact_config", "content_words", "negated"]

_WORD = re.compile(r"[a-z0-9][a-z0-9'\-]*")


def content_words(text: str) -> list[str]:
    """Lower-case words that carry content (no stop words; negations and placeholders kept, as one token)."""
    text = PLACEHOLDER.sub(lambda m: m.group(0).strip("[]").lower(), text)
    return [w for w in _WORD.findall(text.lower()) if w not in NOTE_STOP_WORDS and len(w) > 1]


def negated(text: str) -> bool:
    """True if ``text`` contains a negating word (see :func:`serve_app.engines.text.is_negation`)."""
    return any(is_negation(w) for w in _WORD.findall(text.lower()))


@dataclass(frozen=True)
class Fact:
    """One candidate fact: ``label`` is the id shown to the model (its first segment)."""

    label: str
    segment_ids: tuple[str, ...]
    role: str | None
    text: str
    section: str
    score: float


@dataclass
class FactConfig:
    sections: dict[str, list[tuple[re.Pattern, float]]]
    speaker_prior: dict[str, dict[str, float]] = field(default_factory=dict)
    min_content_words: int = 3
    min_score: float = 1.0
    max_facts_per_section: int = 12
    max_fact_chars: int = 240


def load_fact_config(path: str | None = None) -> FactConfig:
    """Read the cue file (``configs/note_sections.yaml`` unless ``path`` is given)."""
    if path:
        raw = yaml.safe_load(open(path, encoding="utf-8"))
    else:
        raw = yaml.safe_load(resources.files("configs").joinpath("note_sections.yaml").read_text("utf-8"))
    sections = {
        name: [(re.compile(pattern, re.IGNORECASE), float(weight)) for pattern, weight in raw["sections"].get(name, [])]
        for name in SECTIONS
    }
    return FactConfig(
        sections=sections,
        speaker_prior={k: dict(v or {}) for k, v in (raw.get("speaker_prior") or {}).items()},
        min_content_words=int(raw.get("min_content_words", 3)),
        min_score=float(raw.get("min_score", 1.0)),
        max_facts_per_section=int(raw.get("max_facts_per_section", 12)),
        max_fact_chars=int(raw.get("max_fact_chars", 240)),
    )


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + " ..."


class FactExtractor:
    """Masked segments -> candidate facts per section (deterministic, no model)."""

    def __init__(self, config: FactConfig | None = None):
        self.config = config or load_fact_config()

    def _scores(self, text: str, role: str | None) -> dict[str, float]:
        scores = {}
        prior = self.config.speaker_prior.get(role or "", {})
        for section, cues in self.config.sections.items():
            scores[section] = sum(w for pattern, w in cues if pattern.search(text)) + prior.get(section, 0.0)
        return scores

    def _units(self, segments: list[dict[str, Any]]) -> list[tuple[tuple[str, ...], str | None, str]]:
        """Sentences with their segment ids; a question is joined with a short answer after it."""
        units = []
        for i, seg in enumerate(segments):
            sentences = split_sentences(seg.get("text", ""))
            nxt = segments[i + 1] if i + 1 < len(segments) else None
            for j, sentence in enumerate(sentences):
                ids: tuple[str, ...] = (seg["id"],)
                if (sentence.endswith("?") and j == len(sentences) - 1 and nxt is not None
                        and nxt.get("role") != seg.get("role") and len(nxt.get("text", "").split()) <= 12):
                    sentence = f"{sentence} {nxt['text'].strip()}"
                    ids = (seg["id"], nxt["id"])
                units.append((ids, seg.get("role"), sentence))
        return units

    def extract(self, segments: list[dict[str, Any]]) -> dict[str, list[Fact]]:
        """Facts per section, each list in transcript order and at most ``max_facts_per_section`` long."""
        cfg = self.config
        picked: dict[str, list[tuple[int, Fact]]] = {s: [] for s in SECTIONS}
        for order, (ids, role, text) in enumerate(self._units(segments)):
            if len(content_words(text)) < cfg.min_content_words:
                continue
            scores = self._scores(text, role)
            section = max(SECTIONS, key=lambda s: scores[s])
            if scores[section] < cfg.min_score:
                continue
            fact = Fact(ids[0], ids, role, _cut(text, cfg.max_fact_chars), section, scores[section])
            picked[section].append((order, fact))
        out = {}
        for section, facts in picked.items():
            best = sorted(facts, key=lambda of: (-of[1].score, of[0]))[: cfg.max_facts_per_section]
            out[section] = [f for _, f in sorted(best, key=lambda of: of[0])]
        return out
