"""Checks of every note item against what was said: the :class:`NoteChecker` protocol, the
engine (:mod:`.engine`), support backends (:mod:`.support` offline MiniLM + NegEx
(:mod:`.negation`), :mod:`.nli` by path), clinical entities (:mod:`.entities`,
:mod:`.entity_check`), dose and allergy safety (:mod:`.dose_safety`) and prompt
injection (:mod:`.injection`).  Importing the package loads no model."""
from serve_app.engines.guardrails.engine import GuardrailEngine
from serve_app.engines.guardrails.injection import injected_segments, is_injection
from serve_app.engines.guardrails.protocol import NoteChecker
from serve_app.engines.guardrails.support import SupportBackend

__all__ = ["NoteChecker", "GuardrailEngine", "SupportBackend", "is_injection", "injected_segments"]
