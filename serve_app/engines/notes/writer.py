"""Masked segments -> a checked SOAP note (no Ray; the engine is injected).

Candidate facts (:mod:`.note_facts`) are chosen per section, then:

* ``fact`` mode (default, suits small models): every fact is one request,
  "rewrite this sentence as a note statement" under a ``{"text"}`` schema; the
  item cites the fact's segments and is dropped if it drifts from the fact;
* ``section`` mode (bigger models): one request per section writes items with
  citations limited, by the schema, to the ids of the section's facts.

All requests of a note go out at once so vLLM batches them, with other
sessions' requests too.  Every item is checked by
:class:`~.note_citations.CitationChecker`; ids ``n0, n1, ...`` run through the
note in section order.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Literal

from cachetools import LRUCache

from serve_app.contracts import SECTIONS
from serve_app.engines.notes.citations import CitationChecker, SectionResult
from serve_app.engines.notes.facts import Fact, FactExtractor
from serve_app.engines.notes.prompt import PromptBuilder
from serve_app.engines.notes.protocol import NoteEngine
from serve_app.engines.notes.schema import Note, fact_schema, section_schema

__all__ = ["NoteWriter", "WriterSettings", "number_items"]

log = logging.getLogger("scribe.notes")
_REWRITE_CACHE = 4096  # rewritten facts kept: a note update only asks the model about new facts


@dataclass(frozen=True)
class WriterSettings:
    mode: Literal["fact", "section"] = "fact"
    max_items: int = 8          # items per section the section schema allows
    max_item_chars: int = 200   # characters per item the schemas allow
    max_tokens: int = 384       # answer tokens per section request (a fact gets a quarter)
    min_support: float = 0.5    # content-word overlap an item needs with the fact(s) it cites
    fallback_to_fact: bool = True  # fact mode: a drifted rewrite is replaced by the fact's own words


def number_items(sections: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """Give items ids ``n0, n1, ...`` in section order and validate the result as a :class:`Note`."""
    n, note = 0, {}
    for section in SECTIONS:
        note[section] = []
        for item in sections.get(section, []):
            note[section].append({"id": f"n{n}", "text": item["text"], "citations": list(item["citations"])})
            n += 1
    return Note.model_validate(note).model_dump()


class NoteWriter:
    def __init__(self, engine: NoteEngine | None, extractor: FactExtractor | None = None,
                 prompts: PromptBuilder | None = None, settings: WriterSettings = WriterSettings()):
        self._engine = engine
        self.extractor = extractor or FactExtractor()
        self.prompts = prompts or PromptBuilder()
        self.settings = settings
        # (section, role, fact text) -> the model's answer; decoding is greedy, so an
        # incremental update gives the same items as a fresh note, for new facts only.
        self._rewrites: LRUCache = LRUCache(maxsize=_REWRITE_CACHE)

    def facts(self, segments: list[dict[str, Any]]) -> dict[str, list[Fact]]:
        usable = [s for s in segments if s.get("id") and s.get("text")]
        return self.extractor.extract(usable)

    def facts_note(self, segments: list[dict[str, Any]]) -> dict[str, Any]:
        """The candidate facts themselves as a note (the no-LLM baseline)."""
        facts = self.facts(segments)
        return number_items({s: [{"text": f.text, "citations": f.segment_ids} for f in facts[s]] for s in SECTIONS})

    async def _ask(self, messages: list[dict[str, str]], schema: dict[str, Any], max_tokens: int) -> str | None:
        try:
            return await self._engine.complete(messages, schema, max_tokens)
        except ValueError as exc:  # the prompt does not fit: that part is empty, the note is not failed
            log.warning("note request not generated: %s", type(exc).__name__)
            return None

    async def _section_mode(self, section: str, facts: list[Fact], checker: CitationChecker,
                            fresh: bool) -> SectionResult:
        st = self.settings
        labels = sorted({f.label for f in facts}, key=lambda x: int(x[1:]) if x[1:].isdigit() else x)
        raw = await self._ask(self.prompts.section_messages(section, facts),
                              section_schema(labels, st.max_items, st.max_item_chars), st.max_tokens)
        return checker.check(raw) if raw is not None else SectionResult(schema_valid=False, answers=1)

    async def _rewrite(self, section: str, fact: Fact, schema: dict[str, Any], fresh: bool) -> str | None:
        key = (section, fact.role, fact.text)
        if key in self._rewrites and not fresh:
            return self._rewrites[key]  # now the most recent
        raw = await self._ask(self.prompts.fact_messages(section, fact), schema, max(32, self.settings.max_tokens // 4))
        if raw is not None:
            self._rewrites[key] = raw  # the least recently used go first
        return raw

    async def _fact_mode(self, section: str, facts: list[Fact], checker: CitationChecker,
                         fresh: bool) -> SectionResult:
        st = self.settings
        schema = fact_schema(st.max_item_chars)
        answers = await asyncio.gather(*(self._rewrite(section, f, schema, fresh) for f in facts))
        result, seen = SectionResult(), set()
        for fact, raw in zip(facts, answers):
            checker.check_rewrite(raw, fact, result, seen, fallback=st.fallback_to_fact)
        return result

    async def warm_up(self) -> None:
        """One short fact request (fact mode), so the prompt prefix every fact shares is cached by the
        engine; its answer is discarded and a failure only logged."""
        if self._engine is None or self.settings.mode != "fact":
            return
        fact = Fact("s0", ("s0",), "patient", "I have had a cough for three days.", "subjective", 1.0)
        try:
            await self._engine.complete(self.prompts.fact_messages("subjective", fact),
                                        fact_schema(self.settings.max_item_chars), 8)
        except Exception as exc:  # a cold cache only costs time
            log.warning("note engine warm-up failed: %s", type(exc).__name__)

    async def write(self, segments: list[dict[str, Any]], fresh: bool = False) -> dict[str, Any]:
        """``{"note": {...}, "stats": {...}}`` for the masked ``segments`` (``id``, ``text``, ``role``).

        ``fresh`` asks the model about every fact again (benchmarks), ignoring rewrites cached
        from earlier versions of the note."""
        if self._engine is None:
            raise RuntimeError("NoteWriter has no engine")
        facts = self.facts(segments)
        all_facts = [f for s in SECTIONS for f in facts[s]]
        checker = CitationChecker(segments, all_facts, self.settings.min_support)
        run = self._fact_mode if self.settings.mode == "fact" else self._section_mode
        results = await asyncio.gather(*(
            run(s, facts[s], checker, fresh) if facts[s] else _empty() for s in SECTIONS
        ))
        by_section = dict(zip(SECTIONS, results))
        note = number_items({s: r.items for s, r in by_section.items()})
        asked = [r for s, r in by_section.items() if facts[s]]
        stats = {
            "mode": self.settings.mode,
            "facts": {s: len(facts[s]) for s in SECTIONS},
            "sections_asked": len(asked),
            "sections_schema_valid": sum(1 for r in asked if r.schema_valid),
            "items_kept": sum(r.kept for r in results),
            "items_repaired": sum(r.repaired for r in results),
            "items_dropped": sum(r.dropped for r in results),
            "items_fallback": sum(r.fallback for r in results),
            "answers": sum(r.answers for r in results),
            "answers_schema_valid": sum(r.answers_valid for r in results),
            "bad_citations": sum(r.bad_citations for r in results),
        }
        return {"note": note, "stats": stats}


async def _empty() -> SectionResult:
    return SectionResult()
