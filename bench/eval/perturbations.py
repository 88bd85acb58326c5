"""The guardrail perturbation benchmark's generator (issue 5), committed before any threshold is tuned.

Note sentences paired with their dialogues (ACI-Bench and MTS-Dialog, data/dev
and data/train) are copied unchanged (the false-alarm set) and perturbed with
one fixed kind each, where the sentence allows it:

=====================  =====================================================
kind                   what changes
=====================  =====================================================
``changed_dose``       the number of a dose (``50 mg`` -> ``100 mg``)
``changed_unit``       the unit of a dose (``mg`` -> ``mcg``)
``changed_frequency``  a frequency (``twice a day`` -> ``three times a day``)
``flipped_negation``   negated <-> affirmed, paraphrases included
                       (``denies``, ``no history of``, ``negative for``, ``no``)
``invented_medication``  a drug the dialogue never names replaces one it does,
                       or is added as a new order
``wrong_side``         ``left`` <-> ``right``
``wrong_duration``     the number or unit of a duration (``4 days`` -> ``4 weeks``)
=====================  =====================================================

Everything is deterministic (``random.Random(seed)`` per sentence).  A detector
is scored per kind (detection rate) and on the unchanged copies (false alarms).

    python -m bench.eval.perturbations [--out bench/results/perturbations.jsonl]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterable

__all__ = ["Perturbation", "KINDS", "sentences", "perturb", "generate"]

_WORD_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                 "nine": 9, "ten": 10, "twelve": 12}
_NUM = r"(?:\d+(?:\.\d+)?|" + "|".join(_WORD_NUMBERS) + r")"
_DOSE_UNITS = ["mg", "mcg", "g", "ml", "units", "milligrams", "micrograms", "grams"]
_UNIT_SWAP = {"mg": "mcg", "mcg": "mg", "g": "mg", "ml": "l", "units": "mg", "milligrams": "micrograms",
              "micrograms": "milligrams", "grams": "milligrams"}
_DOSE = re.compile(rf"\b(?P<num>{_NUM})\s*(?P<unit>{'|'.join(_DOSE_UNITS)})\b", re.IGNORECASE)
_FREQUENCIES = ["once a day", "twice a day", "three times a day", "four times a day", "once daily",
                "twice daily", "every morning", "at night", "every 4 hours", "every 6 hours", "every 8 hours",
                "once a week", "weekly", "daily", "nightly", "as needed", "b.i.d.", "t.i.d.", "q.i.d.",
                "bid", "tid", "qid", "prn"]
_FREQ = re.compile(r"\b(?:" + "|".join(re.escape(f) for f in sorted(_FREQUENCIES, key=len, reverse=True))
                   + r")(?=\W|$)", re.IGNORECASE)
_FREQ_REPLACEMENT = {"once": "three times", "twice": "four times", "three times": "once", "four times": "twice",
                     "daily": "weekly", "weekly": "daily", "nightly": "every morning", "every morning": "at night",
                     "at night": "every morning", "every 4 hours": "every 12 hours", "every 6 hours": "every 24 hours",
                     "every 8 hours": "every 2 hours", "as needed": "every 4 hours", "b.i.d.": "q.i.d.",
                     "t.i.d.": "daily", "q.i.d.": "b.i.d.", "bid": "qid", "tid": "daily", "qid": "bid",
                     "prn": "daily"}
_DURATION = re.compile(rf"\b(?P<num>{_NUM}|a|an|a couple of|a few)\s+(?P<unit>day|week|month|year)s?\b",
                       re.IGNORECASE)
_SIDE = re.compile(r"\b(left|right)\b", re.IGNORECASE)
#: (pattern, replacement) pairs that flip negation; tried in order, the first that matches is used.
_NEGATIONS: list[tuple[re.Pattern, str]] = [
    (re.compile(r"\bdenies\b", re.I), "reports"),
    (re.compile(r"\bdenied\b", re.I), "reported"),
    (re.compile(r"\bno (?:prior |past |known )?history of\b", re.I), "a history of"),
    (re.compile(r"\bnegative for\b", re.I), "positive for"),
    (re.compile(r"\bpositive for\b", re.I), "negative for"),
    (re.compile(r"\bendorses\b", re.I), "denies"),
    (re.compile(r"\breports\b", re.I), "denies"),
    (re.compile(r"\bhas not\b", re.I), "has"),
    (re.compile(r"\bdoes not have\b", re.I), "has"),
    (re.compile(r"\bis not\b", re.I), "is"),
    (re.compile(r"\bwithout\b", re.I), "with"),
    (re.compile(r"\bno\b(?! longer| more| changes? in)", re.I), "some"),
    (re.compile(r"\bhas a history of\b", re.I), "has no history of"),
    (re.compile(r"\bhas\b", re.I), "does not have"),
]
#: Commonly prescribed drugs (generic names); the invented one is one the dialogue never mentions.
DRUGS = ["lisinopril", "metformin", "atorvastatin", "amlodipine", "metoprolol", "omeprazole", "losartan",
         "gabapentin", "hydrochlorothiazide", "sertraline", "simvastatin", "montelukast", "escitalopram",
         "rosuvastatin", "bupropion", "furosemide", "pantoprazole", "trazodone", "fluoxetine", "carvedilol",
         "tramadol", "prednisone", "meloxicam", "clopidogrel", "citalopram", "warfarin", "apixaban",
         "levothyroxine", "albuterol", "ibuprofen", "acetaminophen", "naproxen", "amoxicillin",
         "azithromycin", "doxycycline", "cephalexin", "ciprofloxacin", "insulin", "glipizide", "spironolactone",
         "tamsulosin", "allopurinol", "cyclobenzaprine", "duloxetine", "venlafaxine", "oxycodone",
         "hydrocodone", "methotrexate", "sumatriptan", "propranolol", "diltiazem", "ondansetron"]
_DRUG = re.compile(r"\b(" + "|".join(DRUGS) + r")\b", re.IGNORECASE)


@dataclass(frozen=True)
class Perturbation:
    """One benchmark row: ``kind`` is ``unchanged`` for the false-alarm copies."""

    id: str
    source: str
    split: str
    record_id: str
    kind: str
    original: str
    sentence: str
    changed_from: str | None = None
    changed_to: str | None = None


def _number(text: str) -> float | None:
    text = text.lower()
    if text in _WORD_NUMBERS:
        return float(_WORD_NUMBERS[text])
    try:
        return float(text)
    except ValueError:
        return None


def _fmt(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


def _replace(sentence: str, m: re.Match, new: str, group: int | str = 0) -> tuple[str, str, str]:
    a, b = m.span(group)
    return sentence[:a] + new + sentence[b:], sentence[a:b], new


def _changed_dose(s, rng, dialogue):
    m = next((m for m in _DOSE.finditer(s) if _number(m.group("num"))), None)
    if not m:
        return None
    value = _number(m.group("num"))
    new = rng.choice([value * 2, value * 10, value / 2 if value >= 2 else value * 4, value + 5])
    return _replace(s, m, _fmt(new), "num")


def _changed_unit(s, rng, dialogue):
    m = _DOSE.search(s)
    if not m:
        return None
    unit = m.group("unit").lower()
    return _replace(s, m, _UNIT_SWAP.get(unit, "mg"), "unit")


_MEDICATION_CONTEXT = re.compile(
    r"\b(take|taking|took|use|using|apply|applying|inhal|medication|medicine|tablet|pill|dose|prescri|continue|"
    r"start|initiate|increase|decrease|refill|therapy|injection)\w*", re.IGNORECASE)


def _changed_frequency(s, rng, dialogue):
    m = _FREQ.search(s)
    if not m or not (_DOSE.search(s) or _DRUG.search(s) or _MEDICATION_CONTEXT.search(s)):
        return None
    text = m.group(0).lower()
    for key, value in _FREQ_REPLACEMENT.items():
        if key in text:
            return _replace(s, m, text.replace(key, value))
    return None


def _flipped_negation(s, rng, dialogue):
    for pattern, replacement in _NEGATIONS:
        m = pattern.search(s)
        if m:
            new = replacement.capitalize() if m.group(0)[0].isupper() else replacement
            return _replace(s, m, new)
    return None


def _invented_medication(s, rng, dialogue):
    unseen = [d for d in DRUGS if d not in dialogue.lower()]
    new = rng.choice(unseen)
    m = _DRUG.search(s)
    if m:
        return _replace(s, m, new)
    if re.search(r"\b(start|prescrib|continue|recommend|medication|refill|take|taking)\w*", s, re.I):
        stripped = s.rstrip(". ")
        return f"{stripped}, and {new} was started.", "", f"and {new} was started"
    return None


def _wrong_side(s, rng, dialogue):
    m = _SIDE.search(s)
    if not m:
        return None
    word = m.group(0)
    other = {"left": "right", "right": "left"}[word.lower()]
    return _replace(s, m, other.capitalize() if word[0].isupper() else other)


def _wrong_duration(s, rng, dialogue):
    # "once a day" / "twice a week" are frequencies, not durations
    m = next((m for m in _DURATION.finditer(s)
              if not s[:m.start()].lower().rstrip().endswith(("once", "twice", "times", "per", "every"))), None)
    if not m:
        return None
    unit = m.group("unit").lower()
    bigger = {"day": "week", "week": "month", "month": "year", "year": "month"}[unit]
    if rng.random() < 0.5 and _number(m.group("num")):
        value = _number(m.group("num"))
        return _replace(s, m, _fmt(value * 3 if value < 10 else value + 7), "num")
    return _replace(s, m, bigger, "unit")  # a plural "s" after the unit stays


KINDS: dict[str, Callable] = {
    "changed_dose": _changed_dose,
    "changed_unit": _changed_unit,
    "changed_frequency": _changed_frequency,
    "flipped_negation": _flipped_negation,
    "invented_medication": _invented_medication,
    "wrong_side": _wrong_side,
    "wrong_duration": _wrong_duration,
}

_HEADER = re.compile(r"^[A-Z0-9 /&,()-]{3,}:?$")


def sentences(note: str) -> list[str]:
    """Sentences of a note: section headers dropped, bullets stripped, 4-60 words."""
    out = []
    for line in note.splitlines():
        line = line.strip().lstrip("•*-– ").strip()
        if not line or _HEADER.match(line):
            continue
        for part in re.split(r"(?<=[.!?])\s+(?=[A-Z])", line):
            part = part.strip()
            if 4 <= len(part.split()) <= 60:
                out.append(part)
    return out


def _seed(*parts: str) -> int:
    return int(hashlib.sha256("|".join(parts).encode()).hexdigest()[:12], 16)


def perturb(sentence: str, kind: str, dialogue: str, seed: int) -> tuple[str, str, str] | None:
    """``(perturbed sentence, changed from, changed to)``, or None where ``kind`` does not apply."""
    out = KINDS[kind](sentence, random.Random(seed), dialogue)
    if out is None or out[0] == sentence:
        return None
    return out


def generate(records: Iterable[tuple[str, str, dict]], seed: str = "issue5") -> list[Perturbation]:
    """Rows for ``(source, split, record)`` triples (records with ``id``, ``dialogue``, ``note``)."""
    rows = []
    for source, split, record in records:
        for k, sent in enumerate(sentences(record["note"])):
            base = f"{source}/{split}/{record['id']}/{k}"
            rows.append(Perturbation(f"{base}/unchanged", source, split, str(record["id"]), "unchanged", sent, sent))
            for kind in KINDS:
                out = perturb(sent, kind, record["dialogue"], _seed(seed, base, kind))
                if out is not None:
                    rows.append(Perturbation(f"{base}/{kind}", source, split, str(record["id"]), kind, sent,
                                             out[0], out[1], out[2]))
    return rows


def _records(data: Path):
    for split, folder, files in (("dev", "dev", ("aci_bench.jsonl", "mts_dialog.jsonl")),
                                 ("train", "train", ("aci_bench_train_valid.jsonl", "mts_dialog_train_valid.jsonl"))):
        dev_keys = set()
        if split == "train":
            for name in ("aci_bench.jsonl", "mts_dialog.jsonl"):
                lines = (data / "dev" / name).read_text().splitlines()
                dev_keys |= {json.loads(line)["dialogue"][:200] for line in lines if line.strip()}
        for name in files:
            source = "aci_bench" if name.startswith("aci") else "mts_dialog"
            for line in (data / folder / name).read_text().splitlines():
                if line.strip():
                    record = json.loads(line)
                    if record["dialogue"][:200] not in dev_keys:  # train rows never repeat a dev item
                        yield source, split, record


def main() -> None:
    from bench.harness.data import SHARED_DATA

    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=str(SHARED_DATA))
    parser.add_argument("--out", default="bench/results/perturbations.jsonl")
    args = parser.parse_args()
    rows = generate(_records(Path(args.data)))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w") as fh:
        for row in rows:
            fh.write(json.dumps(asdict(row)) + "\n")
    counts: dict[tuple[str, str], int] = {}
    for row in rows:
        counts[(row.split, row.kind)] = counts.get((row.split, row.kind), 0) + 1
    for (split, kind), n in sorted(counts.items()):
        print(f"{split:<6} {kind:<20} {n:6d}")


if __name__ == "__main__":
    main()
