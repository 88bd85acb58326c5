"""Does every clinical entity of a note item appear in its evidence?

:func:`check_entities` compares the normalised entities (:mod:`.clinical_entities`)
of a claim with those of the evidence (the cited segments, or the whole
transcript when there are none) and returns one :class:`EntityFinding` per
entity the evidence does not hold: an invented drug, a dose whose amount was
never said (``dose``; ``unit`` when the same number was said with another
unit), a frequency, a duration, a side, or another number.
"""
from __future__ import annotations

from dataclasses import dataclass

from serve_app.engines.guardrails.entities import Entities, dose_amount, extract

__all__ = ["EntityFinding", "check_entities"]


@dataclass(frozen=True)
class EntityFinding:
    kind: str  # medication | dose | unit | frequency | duration | laterality | number
    message: str


def _fmt(x: float) -> str:
    return f"{x:g}"


def check_entities(claim: str | Entities, evidence: str | Entities) -> list[EntityFinding]:
    """Findings for entities of ``claim`` missing from ``evidence`` (texts or extracted entities)."""
    c = extract(claim) if isinstance(claim, str) else claim
    e = extract(evidence) if isinstance(evidence, str) else evidence
    out: list[EntityFinding] = []
    for drug in sorted(c.drugs - e.drugs):
        out.append(EntityFinding("medication", f"The medication '{drug}' is not mentioned in what it cites."))
    said_numbers = {v for v, _ in e.doses} | e.numbers
    for value, unit in c.doses:
        if dose_amount(value, unit) in e.dose_amounts:
            continue
        if value in said_numbers:
            out.append(EntityFinding("unit", f"The dose {_fmt(value)} {unit} was said with another unit."))
        else:
            out.append(EntityFinding("dose", f"The dose {_fmt(value)} {unit} is not what was said."))
    for per_day in sorted(c.per_day - e.per_day):
        out.append(EntityFinding("frequency", f"The frequency ({_fmt(per_day)} times a day) was not said."))
    for days in sorted(c.durations_days - e.durations_days - e.vague_durations_days):
        out.append(EntityFinding("duration", f"The duration ({_fmt(days)} days) was not said."))
    flagged_sides = set()
    for side, part in sorted(c.side_parts - e.side_parts):
        if any(p == part for _, p in e.side_parts):  # the same part was said with another side
            flagged_sides.add(side)
            out.append(EntityFinding("laterality", f"The side of the {part} ('{side}') is not what was said."))
    for side in sorted(c.sides - e.sides - flagged_sides):
        out.append(EntityFinding("laterality", f"The side '{side}' is not what was said."))
    for number in sorted(c.numbers - e.numbers - {v for v, _ in e.doses} - e.per_day):
        out.append(EntityFinding("number", f"The number {_fmt(number)} does not appear in what it cites."))
    return out
