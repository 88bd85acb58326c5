"""The note-checking protocol: what the Guardrails deployment needs from an engine."""
from __future__ import annotations

from typing import Any, Protocol, Sequence

from serve_app.contracts import Note, Warning

__all__ = ["NoteChecker"]


class NoteChecker(Protocol):
    """Warnings about ``note`` against the session's masked ``segments``.

    Implemented by :class:`~serve_app.engines.guardrails.engine.GuardrailEngine`
    (support backend: MiniLM + NegEx, or NLI by path); a deterministic fake lives
    in ``bench/harness/fakes/guardrails.py``.
    """

    def check(self, note: Note | None, segments: Sequence[dict[str, Any]]) -> list[Warning]:
        ...
