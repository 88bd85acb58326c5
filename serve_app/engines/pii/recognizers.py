"""Extra Presidio recognizers for clinical conversations.

Presidio's predefined recognizers cover e-mails, SSNs, IPs, credit cards and
phone numbers that ``phonenumbers`` can validate.  Consultations also carry
medical record numbers, dates of birth, street addresses, postcodes and phone
numbers in local formats.  These recognizers are general patterns (street
types, unit words, cue phrases), never fitted to particular values.
"""
from __future__ import annotations

import re
from typing import Iterable

from presidio_analyzer import EntityRecognizer, Pattern, PatternRecognizer, RecognizerResult

__all__ = ["CuedValueRecognizer", "build_clinical_recognizers"]

_CAP = r"[A-ZÀ-ÖØ-Ý][\wÀ-ÖØ-öø-ÿ'’-]*"
_WORD = r"[\wÀ-ÖØ-öø-ÿ'’.-]+"
# words that never sit between a house number and a street type ("30 miles on a road")
_NOT_STREET_WORD = r"(?!(?:on|a|an|the|in|of|to|for|and|or|at|by|from|miles?|km|minutes?|hours?|times?|days?)\b)"
_STREET_TYPES = (
    r"Street|St|Road|Rd|Avenue|Ave|Av|Lane|Ln|Drive|Dr|Boulevard|Blvd|Way|Court|Ct|Place|Pl|"
    r"Terrace|Crescent|Close|Trail|Parkway|Pkwy|Highway|Hwy|Square|Sq|Row|Radial|Circle|Cir|"
    r"Gardens|Grove|Mews|Walk|Park|Hill|Rise|View|Green|Loop|Pike|Alley|Path|Expressway|"
    r"Freeway|Junction|Crossing|Plaza|Ridge|Causeway|Wharf|Quay|Embankment"
)
_FOREIGN_SUFFIX = (
    r"veien|vegen|vei|gata|gaten|gate|gatan|vägen|vej|gade|straße|strasse|str\.|weg|laan|"
    r"straat|gasse|platz|allee|ring|utca|útja|körút|tér|sor|ulica|aleja"
)
_FOREIGN_WORD = (
    r"tér|utca|út|körút|sor|straße|strasse|weg|platz|allee|gasse|vej|gata|gade|ulica|aleja|"
    r"calle|via|viale|rue|rua|avenida|avenue|plac|náměstí|ulice"
)
_STREET_PREFIX = r"ul\.|ulica|al\.|aleja|rue|via|viale|calle|avenida|av\.|rua|plac|pl\.|carrer"


class CuedValueRecognizer(EntityRecognizer):
    """A regex whose named group ``value`` is the entity; the rest is the cue.

    ``PatternRecognizer`` masks a whole match; here a cue ("date of birth is",
    "MRN") makes a value trustworthy without masking the cue itself.
    """

    def __init__(
        self,
        entity: str,
        patterns: Iterable[str],
        score: float,
        name: str,
        flags: int = re.IGNORECASE | re.MULTILINE,
    ):
        self._patterns = [re.compile(p, flags) for p in patterns]
        self._score = score
        super().__init__(supported_entities=[entity], name=name, supported_language="en")

    def load(self) -> None:  # nothing to load: patterns compile in __init__
        return None

    def analyze(self, text, entities, nlp_artifacts=None):
        results = []
        entity = self.supported_entities[0]
        if entities and entity not in entities:
            return results
        for pattern in self._patterns:
            for match in pattern.finditer(text):
                start, end = match.span("value")
                if end > start:
                    results.append(RecognizerResult(entity, start, end, self._score))
        return results


def _pattern(name: str, entity: str, regexes: list[str], score: float, context: list[str] | None = None):
    return PatternRecognizer(
        supported_entity=entity,
        name=name,
        patterns=[Pattern(f"{name}_{i}", r, score) for i, r in enumerate(regexes)],
        context=context,
    )


def build_clinical_recognizers() -> list[EntityRecognizer]:
    """The recognizers added to Presidio's registry by :class:`PiiEngine`."""
    street = _pattern(
        "street_address", "STREET_ADDRESS",
        [
            # 221B Baker Street, 5 North Oak Avenue
            rf"\b\d{{1,5}}[A-Za-z]?,?\s+(?:{_NOT_STREET_WORD}{_CAP}\s+){{0,3}}(?:{_STREET_TYPES})\b\.?",
            # Skoanveien 226, 5720 Skoanveien 226, Hauptstraße 5
            rf"(?:\b\d{{1,5}}\s+)?\b{_CAP}(?:{_FOREIGN_SUFFIX})\s+\d{{1,5}}[A-Za-z]?\b\.?",
            # Erzsébet tér 19., 233 Erzsébet tér 19.
            rf"(?:\b\d{{1,5}}\s+)?\b{_CAP}\s+(?:{_FOREIGN_WORD})\s+\d{{1,5}}[A-Za-z]?\b\.?",
            # ul. Cicha 86, rue Lepic 54
            rf"(?<!\w)(?:{_STREET_PREFIX})\s+{_CAP}(?:\s+{_CAP})?\s+\d{{1,5}}[A-Za-z]?\b",
            # Apt. 117, Suite 282, Flat 3B
            r"\b(?:Apt|Apartment|Suite|Ste|Unit|Flat|Bldg|Building|P\.?O\.? Box)\.?\s*#?\s*\d{1,5}[A-Za-z]?\b",
            # the corner of <street> and <street>
            rf"\b(?:the\s+)?corner\s+of\s+(?:{_WORD}\s+){{1,4}}?and\s+{_CAP}(?:\s+{_CAP}){{0,2}}",
        ],
        0.6,
        context=["address", "live", "lives", "living", "street", "road", "moved", "apartment"],
    )
    uk_postcode = _pattern(
        "uk_postcode", "ZIP_CODE", [r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[ABD-HJLNP-UW-Z]{2}\b"], 0.6,
        context=["postcode", "post code", "address"],
    )
    us_zip = _pattern(
        "us_zip", "ZIP_CODE", [r"\b\d{5}(?:-\d{4})?\b"], 0.05,
        context=["zip", "zipcode", "postal", "postcode", "address"],
    )
    cued_zip = CuedValueRecognizer(
        "ZIP_CODE",
        [
            r"\b(?:zip|postal|post)\s*-?\s*code\s*(?:is|was|:|number)?\s*(?P<value>[A-Z0-9]{2,4}\s?[A-Z0-9]{0,4}\d)\b",
            # the postcode line closing a multi-line postal address: "Hungary 34796"
            r"(?<=\n)[^\S\n]*(?:[^\s\d]\S*[^\S\n]+){1,3}(?P<value>\d{4,6})[^\S\n]*(?=\n|$)",
        ],
        0.7, "cued_zip",
    )
    phone = _pattern(
        "local_phone", "PHONE_NUMBER",
        [
            r"(?<!\w)(?:\+\d{1,3}[\s.-]?)?\(\d{2,5}\)\s?\d{3,4}[\s.-]?\d{3,4}\b",
            r"(?<![\w.])(?:\+\d{1,3}[\s.-]?)?0\d{3,4}[\s.-]?\d{3}[\s.-]?\d{3,4}\b",
            r"(?<![\w.])\d{3}[\s.-]\d{3}[\s.-]\d{4}\b",
        ],
        0.4,
        context=["phone", "call", "number", "mobile", "cell", "fax", "office", "tel", "telephone",
                 "ring", "contact", "reach"],
    )
    mrn = CuedValueRecognizer(
        "MEDICAL_RECORD_NUMBER",
        [
            r"\b(?:MRN|medical\s+record\s+(?:number|no\.?|#)|record\s+(?:number|no\.?|#)|"
            r"hospital\s+(?:number|no\.?)|patient\s+(?:id|identifier|number)|chart\s+(?:number|#))"
            r"\s*(?:is|:|#)?\s*(?P<value>[A-Z]{0,3}[-\s]?\d[\d\s-]{3,14}\d)\b",
        ],
        0.85, "medical_record_number",
    )
    dob = CuedValueRecognizer(
        "DATE",
        [
            r"\b(?:date\s+of\s+birth|DOB|D\.O\.B\.?|born\s+(?:on|in)?|birthday\s+is)\s*(?:is|:|was)?\s*"
            r"(?P<value>(?:\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?[A-Za-z]{3,9},?\s+\d{2,4}|"
            r"[A-Za-z]{3,9}\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{2,4}|\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}))",
        ],
        0.9, "date_of_birth",
    )
    named_person = CuedValueRecognizer(
        "PERSON",
        [
            rf"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof)\.?\s+(?P<value>{_CAP}(?:\s+{_CAP})?)",
            rf"\b(?i:my|her|his|their|your)\s+(?i:maiden\s+|first\s+|last\s+|family\s+|sur)?"
            rf"(?i:name)\s+(?i:is|was)\s+(?P<value>{_CAP}(?:\s+{_CAP})?)",
        ],
        0.7, "cued_person", flags=re.MULTILINE,
    )
    age = CuedValueRecognizer(
        "AGE",
        [
            r"\b(?P<value>\d{1,3})[\s-]*(?:years?|yrs?)[\s-]*old\b",
            r"\b(?P<value>\d{1,3})\s*(?:yo|y/o|y\.o\.)(?!\w)",
            r"\b(?:aged|age|turn|turned|turning)\s+(?P<value>\d{1,3})\b",
        ],
        0.8, "age",
    )
    return [street, uk_postcode, us_zip, cued_zip, phone, mrn, dob, named_person, age]
