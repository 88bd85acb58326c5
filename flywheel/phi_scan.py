"""The writer's last look for PHI in a row before it is published.

Rows are built from masked text only; this scan runs two different detectors over
every text field again: the service's own PII engine (Presidio with the project's
recognizers) and an independent one built another way (philter-lite's rules,
:class:`serve_app.engines.pii.philter.PhilterDetector`), so a value has to slip past
both methods to reach a dataset.
Placeholders (``[PERSON_1]``) are what masking left and are not findings.  A
row with any finding is routed to the quarantine with the found spans redacted
to their entity type; the value itself is never logged or written.
"""
from __future__ import annotations

import json
import re
from typing import Any, Callable, Iterable

from flywheel.records import SYSTEM_PROMPT
from serve_app.contracts import SECTIONS
from serve_app.engines.text import PLACEHOLDER

__all__ = ["PhiScanner", "independent_detector", "text_fields"]

Finder = Callable[[str], list[tuple[int, int, str]]]


_LINE = re.compile(r"^(\[[^\]]+\] [A-Za-z]+: )(.*)$")


def _note(value: str) -> dict | None:
    if not value.startswith("{"):
        return None
    try:
        note = json.loads(value)
    except ValueError:
        return None
    return note if isinstance(note, dict) and set(note) <= set(SECTIONS) else None


def _pieces(value: str) -> tuple[list[str], Callable[[list[str]], str]]:
    """The texts of one field as the service masked them (one per note item or transcript segment),
    and how to put the field back together from (redacted) texts."""
    note = _note(value)
    if note is not None:
        where = [(s, i) for s in SECTIONS for i in range(len(note.get(s) or []))]

        def rebuild_note(texts: list[str]) -> str:
            out = json.loads(value)
            for (s, i), text in zip(where, texts):
                out[s][i]["text"] = text
            return json.dumps(out, ensure_ascii=False)
        return [note[s][i]["text"] for s, i in where], rebuild_note
    heads, texts = [], []
    for line in value.split("\n"):
        m = _LINE.match(line)
        heads.append(m.group(1) if m else "")
        texts.append(m.group(2) if m else line)
    return texts, lambda new: "\n".join(h + t for h, t in zip(heads, new))


def text_fields(row: dict[str, Any]) -> Iterable[tuple[str, str, str]]:
    """``(field, fixed prefix, value)`` of every field of a row that can hold session text.

    The project's own instruction (the system message, the head of a DPO prompt) is not session data
    and is not scanned (Presidio reads "JSON" in it as a name).
    """
    for key in ("reason", "transcript", "generated_note", "final_note", "prompt", "chosen", "rejected"):
        if isinstance(row.get(key), str):
            text = row[key]
            prefix = SYSTEM_PROMPT + "\n\n" if key == "prompt" and text.startswith(SYSTEM_PROMPT) else ""
            yield key, prefix, text[len(prefix):]
    for k, message in enumerate(row.get("messages") or []):
        if message.get("role") != "system":
            yield f"messages.{k}", "", message["content"]


class PhiScanner:
    """``scan(row)`` -> (entity types found, redacted row); memoises texts shared by rows.

    Each note item and each transcript segment is scanned on its own, as it was masked (the same
    words inside JSON or a joined transcript read differently to the NER model).

    Args:
        finders: each ``text -> [(start, end, entity_type)]`` (``PiiEngine.find``,
            ``PhilterDetector.find``); a span any of them reports is a finding.
    """

    def __init__(self, *finders: Finder):
        self._finders = finders
        self._cache: dict[str, list[tuple[int, int, str]]] = {}

    @classmethod
    def from_config(cls, pii_config, engine=None) -> "PhiScanner":
        """The masking engine (built from ``pii_config`` unless given) and philter-lite's rules."""
        from serve_app.engines.pii.engine import PiiEngine

        engine = engine or PiiEngine.from_config(pii_config)
        return cls(engine.find, independent_detector(pii_config))

    def _find(self, text: str) -> list[tuple[int, int, str]]:
        """Union of every finder's spans, overlaps merged (a specific type wins over a generic ``ID``)."""
        spans = sorted(span for find in self._finders for span in find(text))
        merged: list[tuple[int, int, str]] = []
        for a, b, kind in spans:
            if merged and a < merged[-1][1]:
                last = merged[-1]
                merged[-1] = (last[0], max(b, last[1]), kind if last[2] == "ID" else last[2])
            else:
                merged.append((a, b, kind))
        return merged

    def findings(self, text: str) -> list[tuple[int, int, str]]:
        if text not in self._cache:
            if len(self._cache) > 4096:
                self._cache.clear()
            placeholders = [m.span() for m in PLACEHOLDER.finditer(text)]
            self._cache[text] = [(a, b, kind) for a, b, kind in self._find(text)
                                 if not any(pa <= a and b <= pb for pa, pb in placeholders)]
        return self._cache[text]

    def scan(self, row: dict[str, Any]) -> tuple[list[str], dict[str, Any] | None]:
        """Entity types found in ``row`` and the row with them redacted (None if nothing was found)."""
        kinds: set[str] = set()
        redacted = dict(row)
        for field, prefix, value in text_fields(row):
            texts, rebuild = _pieces(value)
            found = [self.findings(t) for t in texts]
            if not any(found):
                continue
            clean = []
            for text, spans in zip(texts, found):
                kinds.update(kind for _, _, kind in spans)
                for a, b, kind in sorted(spans, reverse=True):
                    text = text[:a] + f"[{kind}]" + text[b:]
                clean.append(text)
            value = prefix + rebuild(clean)
            if field.startswith("messages."):
                k = int(field.split(".")[1])
                redacted["messages"] = [dict(m) for m in redacted["messages"]]
                redacted["messages"][k]["content"] = value
            else:
                redacted[field] = value
        return sorted(kinds), (redacted if kinds else None)


def independent_detector(pii_config) -> Finder:
    """philter-lite's rule set, told the same clinical words the masking keeps."""
    from serve_app.engines.lexicon import clinical_terms, load_drug_lexicon
    from serve_app.engines.pii.engine import load_allow_list
    from serve_app.engines.pii.philter import PhilterDetector

    never = clinical_terms() | frozenset(load_drug_lexicon()) | load_allow_list(pii_config.allow_list_path)
    return PhilterDetector(pii_config.spacy_model, never).find


def quarantine_row(row: dict[str, Any], dataset: str, kinds: list[str], redacted: dict[str, Any]) -> dict[str, Any]:
    """The quarantine row for ``row`` (provenance kept, content redacted)."""
    keep = ("schema_version", "feedback_id", "session", "clinician", "note_version", "model_id", "prompt_version",
            "config", "received_at")
    body = {k: v for k, v in redacted.items() if k not in keep}
    return {**{k: row.get(k) for k in keep}, "dataset": dataset, "entity_types": kinds,
            "row": json.dumps(body, default=str, ensure_ascii=False)}
