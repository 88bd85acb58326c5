"""A deterministic PII engine: fixed names and phone numbers, real placeholder logic.

It finds the names in :data:`NAMES` and ``ddd-dddd`` phone numbers, and masks them
with the real :func:`~serve_app.engines.pii.engine.apply_spans` and
:class:`~serve_app.engines.pii.pseudonyms.PseudonymMap`, so placeholders are
session-consistent exactly as in production.  ``find`` serves the flywheel's re-scan.
"""
from __future__ import annotations

import re

from serve_app.engines.pii.engine import MaskResult, apply_spans
from serve_app.engines.pii.pseudonyms import PseudonymMap

__all__ = ["FakePii", "NAMES"]

NAMES = ("Alice Jones", "Bob Stone", "Margaret Thompson")
_PATTERNS = [(re.compile(re.escape(n)), "PERSON") for n in NAMES] + [(re.compile(r"\b\d{3}-\d{4}\b"), "PHONE_NUMBER")]


class FakePii:
    """Implements :class:`~serve_app.engines.pii.engine.PiiMasker` (and ``find``)."""

    def find(self, text: str) -> list[tuple[int, int, str]]:
        spans = sorted((m.start(), m.end(), kind) for pattern, kind in _PATTERNS for m in pattern.finditer(text))
        out: list[tuple[int, int, str]] = []
        for start, end, kind in spans:
            if not out or start >= out[-1][1]:
                out.append((start, end, kind))
        return out

    def mask(self, text: str, names: dict[str, str]) -> MaskResult:
        return apply_spans(text, self.find(text), PseudonymMap(dict(names)), names)
