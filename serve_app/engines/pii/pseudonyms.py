"""Session-consistent placeholders for PHI values.

A :class:`PseudonymMap` turns a detected value into a placeholder such as
``[PERSON_1]``.  The same value (after normalisation) always gets the same
placeholder within a session; a person named in part ("Smith", "Mr. Smith")
gets the placeholder of the full name already seen ("John Smith").

The map's only state is ``{placeholder: real value}``: that is what the session
keeps (and serves through ``GET .../names``), and everything else is rebuilt
from it.  It is PHI and must never be logged.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from serve_app.engines.text import PLACEHOLDER

__all__ = ["PseudonymMap", "PLACEHOLDER_KINDS", "kind_for_entity"]

#: Presidio entity type -> placeholder kind shown in masked text.
PLACEHOLDER_KINDS: dict[str, str] = {
    "PERSON": "PERSON",
    "PHONE_NUMBER": "PHONE",
    "EMAIL_ADDRESS": "EMAIL",
    "US_SSN": "SSN",
    "US_ITIN": "SSN",
    "STREET_ADDRESS": "ADDRESS",
    "ZIP_CODE": "ZIP",
    "LOCATION": "LOCATION",
    "IP_ADDRESS": "IP",
    "URL": "URL",
    "DATE": "DATE",
    "AGE": "AGE",
    "MEDICAL_RECORD_NUMBER": "MRN",
    "UK_NHS": "MRN",
    "US_DRIVER_LICENSE": "ID",
    "US_PASSPORT": "ID",
    "US_BANK_NUMBER": "ACCOUNT",
    "IBAN_CODE": "ACCOUNT",
    "CREDIT_CARD": "ACCOUNT",
    "MEDICAL_LICENSE": "ID",
    "CRYPTO": "ACCOUNT",
}

_TITLES = {"mr", "mrs", "ms", "miss", "mx", "dr", "doctor", "prof", "professor", "sir", "madam"}


def kind_for_entity(entity_type: str) -> str:
    """Placeholder kind for a Presidio entity type (unknown types become ``ID``)."""
    return PLACEHOLDER_KINDS.get(entity_type, "ID")


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(re.findall(r"[\w@.+-]+", text)).strip(" .-")


def _normalise(kind: str, value: str) -> str:
    if kind in {"PHONE", "SSN", "MRN", "ACCOUNT", "ZIP"}:
        digits = re.sub(r"\D", "", value)
        return digits or _fold(value)
    return _fold(value)


def _name_tokens(value: str) -> frozenset[str]:
    return frozenset(t for t in _fold(value).replace(".", " ").split() if t not in _TITLES)


@dataclass
class PseudonymMap:
    """``placeholder -> value`` with lookups that keep placeholders consistent."""

    values: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._index: dict[tuple[str, str], str] = {}
        self._counts: dict[str, int] = {}
        for placeholder, value in self.values.items():
            self._remember(placeholder, value)

    def _remember(self, placeholder: str, value: str) -> None:
        match = PLACEHOLDER.fullmatch(placeholder)
        if not match:
            raise ValueError(f"not a placeholder: {placeholder!r}")
        kind, number = match.group(1), int(match.group(2))
        self._counts[kind] = max(self._counts.get(kind, 0), number)
        self._index.setdefault((kind, _normalise(kind, value)), placeholder)

    def _person_match(self, value: str) -> str | None:
        tokens = _name_tokens(value)
        if not tokens:
            return None
        for placeholder, known in self.values.items():
            if not placeholder.startswith("[PERSON_"):
                continue
            known_tokens = _name_tokens(known)
            if known_tokens and (tokens <= known_tokens or known_tokens <= tokens):
                return placeholder
        return None

    def placeholder_for(self, entity_type: str, value: str) -> tuple[str, bool]:
        """Return ``(placeholder, is_new)`` for a detected value, adding it if unseen."""
        kind = kind_for_entity(entity_type)
        key = (kind, _normalise(kind, value))
        found = self._index.get(key)
        if found is None and kind == "PERSON":
            found = self._person_match(value)
        if found is not None:
            return found, False
        number = self._counts.get(kind, 0) + 1
        placeholder = f"[{kind}_{number}]"
        self.values[placeholder] = value
        self._remember(placeholder, value)
        return placeholder, True
