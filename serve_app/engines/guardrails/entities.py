"""Clinical entities of a sentence, normalised so a note item can be compared with what was said.

Spoken numbers become digits (``text2num``'s ``alpha2digit``: "ten milligrams"
-> "10 milligrams"); doses are converted to a base unit of their dimension with
``pint`` (so "0.5 g" and "500 mg" agree); frequencies become times per day,
durations days.  Drugs come from the lexicon in ``configs/drug_lexicon.yaml``
(brand -> generic) plus the common generic stems (statin, pril, sartan, ...).

This module only extracts; :mod:`.entity_check` compares a claim with its evidence.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from serve_app.engines.lexicon import load_drug_lexicon

__all__ = ["Entities", "extract", "spoken_numbers", "load_drug_lexicon", "dose_amount"]

_WORDS = {"a": 1, "an": 1, "one": 1, "a couple of": 2, "a few": 3, "several": 3}
_NUM = r"\d+(?:\.\d+)?"
_DOSE_UNITS = {
    "mg": "milligram", "milligram": "milligram", "milligrams": "milligram",
    "mcg": "microgram", "µg": "microgram", "ug": "microgram", "microgram": "microgram", "micrograms": "microgram",
    "g": "gram", "gram": "gram", "grams": "gram", "gm": "gram",
    "ml": "milliliter", "milliliter": "milliliter", "milliliters": "milliliter", "cc": "milliliter",
    "l": "liter", "liter": "liter", "liters": "liter",
    "units": "unit", "unit": "unit", "iu": "unit",
}
_UNIT_ALTERNATIVES = "|".join(sorted(map(re.escape, _DOSE_UNITS), key=len, reverse=True))
_DOSE = re.compile(rf"\b(?P<num>{_NUM})\s*(?P<unit>{_UNIT_ALTERNATIVES})\b", re.IGNORECASE)
#: Frequencies, most specific first: a span taken by one is not matched again ("twice daily" is not "daily").
_PER_DAY = [
    (re.compile(r"\b(?:twice|two times)\s+(?:a|per|each)\s+day\b|\btwice daily\b|\bb\.?i\.?d\.?\b", re.I), 2.0),
    (re.compile(r"\bthree times\s+(?:a|per|each)\s+day\b|\bthree times daily\b|\bt\.?i\.?d\.?\b", re.I), 3.0),
    (re.compile(r"\bfour times\s+(?:a|per|each)\s+day\b|\bfour times daily\b|\bq\.?i\.?d\.?\b", re.I), 4.0),
    (re.compile(r"\b(?:once|one time)\s+(?:a|per|each)\s+week\b|\bweekly\b", re.I), 1 / 7),
    (re.compile(r"\b(?:once|one time)\s+(?:a|per|each)\s+month\b|\bmonthly\b", re.I), 1 / 30),
    (re.compile(r"\b(?:once|one time)\s+(?:a|per|each)\s+day\b|\bonce daily\b|\bdaily\b|\bq\.?d\.?\b|\bevery day\b"
                r"|\bevery (?:morning|evening|night)\b|\bnightly\b|\bat bedtime\b", re.I), 1.0),
]
_EVERY_HOURS = re.compile(rf"\bevery\s+(?P<num>{_NUM})\s*(?:-\s*{_NUM}\s*)?(?:hours?|hrs?|h)\b"
                          rf"|\bq\s*(?P<q>{_NUM})\s*h\b", re.I)
_TIMES_A_DAY = re.compile(rf"\b(?P<num>{_NUM})\s*(?:times|x)\s+(?:a|per|each)\s+day\b", re.I)
_DURATION = re.compile(rf"\b(?P<num>{_NUM}|a couple of|a few|several|an?|one)\s+(?P<unit>day|week|month|year)s?\b",
                       re.I)
_DAYS = {"day": 1.0, "week": 7.0, "month": 30.0, "year": 365.0}
_SIDE = re.compile(r"\b(left|right|bilateral(?:ly)?|both)\b", re.I)
#: a side and the body part it qualifies ("left knee", "right lower extremity")
_SIDE_PART = re.compile(r"\b(?P<side>left|right|bilateral|both)(?:[- ](?:side(?:d)?|sided|upper|lower|inner|outer|"
                        r"medial|lateral|anterior|posterior|of the|of his|of her|of my))*[- ](?P<part>[a-z]{3,})", re.I)
_NUMBER = re.compile(rf"(?<![\w.]){_NUM}(?![\w.])")
#: dates ("12/18/03", "03/2021"), clock times ("7:00", "9.00 p.m.") and codes ("COVID-19", "L4-5") are not
#: quantities; they are left out of the number check
_NOT_QUANTITY = re.compile(r"\b\d{1,2}/\d{1,2}(?:/\d{2,4})?\b|\b\d{1,2}/\d{4}\b|\b\d{1,2}[:.]\d{2}\s*(?:[ap]\.?m\.?)?"
                           r"|\b[A-Za-z]+\d*-\d+(?:-\d+)?\b", re.I)
#: handedness is not the side of a finding
_HANDEDNESS = re.compile(r"\b(?:left|right)[- ]hand(?:ed|[- ]dominant)\b", re.I)
_VAGUE = frozenset({"a couple of", "a few", "several"})
_GENERIC_STEM = re.compile(
    r"^[a-z]+(?:statin|pril|sartan|olol|azole|prazole|mab|nib|cillin|mycin|floxacin|cycline|dipine|tidine|"
    r"triptan|parin|gliptin|gliflozin|glutide|semide|thiazide|oxetine|azepam|azolam|codone|profen|sone|"
    r"lone|caine|vir|tadine)$")


@dataclass
class Entities:
    """What a sentence states, normalised (see the module doc)."""

    drugs: set[str] = field(default_factory=set)
    doses: list[tuple[float, str]] = field(default_factory=list)  # (value, unit) as written, unit canonical
    dose_amounts: set[tuple[float, str]] = field(default_factory=set)  # (value in base unit, dimension)
    per_day: set[float] = field(default_factory=set)
    durations_days: set[float] = field(default_factory=set)
    vague_durations_days: set[float] = field(default_factory=set)  # "a few weeks": evidence only, never checked
    sides: set[str] = field(default_factory=set)
    side_parts: set[tuple[str, str]] = field(default_factory=set)  # ("left", "knee")
    numbers: set[float] = field(default_factory=set)


@lru_cache(maxsize=1)
def _units():
    import pint

    return pint.UnitRegistry()


def spoken_numbers(text: str) -> str:
    """Spoken numbers as digits ("twenty five mg" -> "25 mg"); other text unchanged."""
    from text_to_num import alpha2digit

    return alpha2digit(text, "en", threshold=0)


def dose_amount(value: float, unit: str) -> tuple[float, str]:
    """``(amount in mg / ml / units, dimension)`` of a dose."""
    if unit == "unit":
        return value, "unit"
    q = _units().Quantity(value, unit)
    if q.check("[mass]"):
        return round(q.to("milligram").magnitude, 6), "mass"
    return round(q.to("milliliter").magnitude, 6), "volume"


def extract(text: str) -> Entities:
    """The entities of ``text`` (a note item or a transcript segment)."""
    text = spoken_numbers(text)
    ents = Entities()
    lexicon = load_drug_lexicon()
    for token in re.findall(r"[A-Za-z][A-Za-z-]+", text):
        low = token.lower()
        if low in lexicon:
            ents.drugs.add(lexicon[low])
        elif _GENERIC_STEM.match(low) and len(low) > 6:
            ents.drugs.add(low)
    spans = []
    for m in _DOSE.finditer(text):
        value, unit = float(m.group("num")), _DOSE_UNITS[m.group("unit").lower()]
        ents.doses.append((value, unit))
        ents.dose_amounts.add(dose_amount(value, unit))
        spans.append(m.span())
    def free(m) -> bool:
        return not any(a < m.end() and m.start() < b for a, b in spans)

    for m in _EVERY_HOURS.finditer(text):
        hours = float(m.group("num") or m.group("q"))
        if hours > 0:
            ents.per_day.add(round(24 / hours, 4))
            spans.append(m.span())
    for m in _TIMES_A_DAY.finditer(text):
        ents.per_day.add(float(m.group("num")))
        spans.append(m.span())
    for pattern, per_day in _PER_DAY:
        for m in pattern.finditer(text):
            if free(m):
                ents.per_day.add(round(per_day, 4))
                spans.append(m.span())
    for m in _DURATION.finditer(text):
        before = text[:m.start()].lower().rstrip()
        if not free(m) or before.endswith(("once", "twice", "times", "per", "every")):
            continue  # "once a day" is a frequency
        raw = m.group("num").lower()
        count = _WORDS.get(raw) or float(raw)
        days = round(count * _DAYS[m.group("unit").lower()], 3)
        (ents.vague_durations_days if raw in _VAGUE else ents.durations_days).add(days)
        spans.append(m.span())
    spans += [m.span() for m in _NOT_QUANTITY.finditer(text)]
    text = _HANDEDNESS.sub(lambda m: " " * len(m.group()), text)  # same length: spans stay valid
    ents.sides = {s.lower().replace("bilaterally", "bilateral").replace("both", "bilateral")
                  for s in _SIDE.findall(text)}
    for m in _SIDE_PART.finditer(text):
        side = m.group("side").lower().replace("bilaterally", "bilateral").replace("both", "bilateral")
        ents.side_parts.add((side, m.group("part").lower().rstrip("s")))
    for m in _NUMBER.finditer(text):
        if not any(a <= m.start() < b for a, b in spans):
            ents.numbers.add(float(m.group(0)))
    return ents
