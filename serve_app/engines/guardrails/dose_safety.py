"""Safety rules on a note item: dose limits per drug and allergy conflicts.

Limits come from ``configs/dose_limits.yaml`` (adult oral maxima from FDA
labelling; see its header).  A dose is read with its unit normalised to mg
(:func:`.clinical_entities.dose_amount`), its frequency as times per day, so
"1 g four times a day" of acetaminophen is checked as 1000 mg single, 4000 mg
daily.  A drug dosed once a week (methotrexate) written with a daily schedule
is flagged.  An allergy stated in the transcript ("allergic to penicillin") and
a plan item naming that drug is an allergy conflict.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from serve_app.engines.guardrails.entities import dose_amount, extract, load_drug_lexicon

__all__ = ["SafetyFinding", "dose_findings", "allergies", "allergy_findings", "load_dose_limits"]

_ALLERGY = re.compile(r"\b(?:allergic to|allergy to|allergies to|allergies:?|reaction to|intolerant of|"
                      r"intolerance to)\s+(?P<what>[^.;?!]+)", re.I)


@dataclass(frozen=True)
class SafetyFinding:
    kind: str  # dose | allergy
    message: str


@lru_cache(maxsize=1)
def load_dose_limits() -> dict[str, dict]:
    import yaml

    return yaml.safe_load(resources.files("configs").joinpath("dose_limits.yaml").read_text())["limits"]


def dose_findings(text: str) -> list[SafetyFinding]:
    """Doses in ``text`` above the single or daily limit of the drug they follow."""
    ents = extract(text)
    if len(ents.drugs) != 1 or not ents.doses:
        return []  # with several drugs in one item a dose cannot be attributed safely
    drug = next(iter(ents.drugs))
    limit = load_dose_limits().get(drug)
    if limit is None:
        return []
    out = []
    per_day = max(ents.per_day) if ents.per_day else None
    for value, unit in ents.doses:
        amount, dim = dose_amount(value, unit)
        if dim != "mass":
            continue
        if amount > limit["single_mg"] + 1e-9:
            out.append(SafetyFinding("dose", f"{drug} {value:g} {unit} is above the single-dose limit of "
                                             f"{limit['single_mg']:g} mg."))
        elif per_day and amount * per_day > limit["daily_mg"] + 1e-9:
            out.append(SafetyFinding("dose", f"{drug} {value:g} {unit} {per_day:g} times a day is "
                                             f"{amount * per_day:g} mg a day, above the daily limit of "
                                             f"{limit['daily_mg']:g} mg."))
        if limit.get("weekly_only") and per_day is not None and per_day >= 1:
            out.append(SafetyFinding("dose", f"{drug} is dosed once a week; this item gives it daily."))
    return out


def allergies(transcript: str) -> set[str]:
    """Generic names of drugs the transcript says the patient is allergic to."""
    lexicon = load_drug_lexicon()
    found = set()
    for m in _ALLERGY.finditer(transcript):
        for token in re.findall(r"[A-Za-z][A-Za-z-]+", m.group("what")):
            if token.lower() in lexicon:
                found.add(lexicon[token.lower()])
    return found


def allergy_findings(text: str, allergic_to: set[str]) -> list[SafetyFinding]:
    """The item names a drug the patient is allergic to (penicillins include amoxicillin)."""
    named = extract(text).drugs
    related = set(allergic_to)
    if "penicillin" in allergic_to:
        related |= {"amoxicillin", "amoxicillin-clavulanate"}
    return [SafetyFinding("allergy", f"The patient said they are allergic to {drug}.")
            for drug in sorted(named & related)]
