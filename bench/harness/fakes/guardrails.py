"""A deterministic note checker: the real injection rule, and an ``unsupported`` warning for
every item none of whose cited segments shares a word with it."""
from __future__ import annotations

from typing import Any, Sequence

from serve_app.contracts import SECTIONS, Note, Warning
from serve_app.engines.guardrails.injection import injected_segments

__all__ = ["FakeGuardrails"]


def _words(text: str) -> set[str]:
    return {w.strip(".,?!").lower() for w in text.split() if len(w.strip(".,?!")) > 3}


class FakeGuardrails:
    """Implements :class:`~serve_app.engines.guardrails.protocol.NoteChecker`."""

    def check(self, note: Note | None, segments: Sequence[dict[str, Any]]) -> list[Warning]:
        warnings: list[Warning] = [{"note_item": None, "kind": "injection", "message": "instruction-like text",
                                    "evidence": [sid]} for sid in injected_segments(segments)]
        by_id = {s["id"]: s["text"] for s in segments}
        for section in SECTIONS:
            for item in (note or {}).get(section) or []:
                cited = " ".join(by_id.get(c, "") for c in item["citations"])
                if not _words(item["text"]) & _words(cited):
                    warnings.append({"note_item": item["id"], "kind": "unsupported",
                                     "message": "no cited segment says this", "evidence": list(item["citations"])})
        return warnings
