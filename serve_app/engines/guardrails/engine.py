"""Every note item checked against what was said: the warnings of one note.

:meth:`GuardrailEngine.check` takes a note (``{section: [{id, text, citations}]}``)
and the session's masked segments and returns warnings in API.md's shape:
``{"note_item", "kind", "message", "evidence"}``.  Per item:

* support (:mod:`.support_check`): against the units of its cited segments,
  or of the whole transcript when it cites none -> ``unsupported`` /
  ``contradicted``;
* entities (:mod:`.entity_check`): a drug, dose, unit, frequency, duration,
  side or number the cited segments do not hold -> ``medication`` / ``dose`` /
  ``unit`` / ``frequency`` / ``duration`` / ``laterality`` / ``number``;
* safety (:mod:`.dose_safety`): above a dose limit -> ``dose_limit``; a drug the
  patient said they are allergic to -> ``allergy``.

And per segment: text that tries to instruct the model -> ``injection``
(``note_item`` null).
"""
from __future__ import annotations

from typing import Any, Sequence

from serve_app.contracts import SECTIONS
from serve_app.engines.guardrails.dose_safety import allergies, allergy_findings, dose_findings
from serve_app.engines.guardrails.entities import extract
from serve_app.engines.guardrails.entity_check import check_entities
from serve_app.engines.guardrails.injection import injected_segments
from serve_app.engines.guardrails.support import SupportBackend, evidence_units

__all__ = ["GuardrailEngine"]



def _warning(item: str | None, kind: str, message: str, evidence: Sequence[str]) -> dict[str, Any]:
    return {"note_item": item, "kind": kind, "message": message, "evidence": list(evidence)}


class GuardrailEngine:
    """Stateless checks of one note against one session's segments."""

    def __init__(self, support: SupportBackend):
        self._support = support

    def tune(self, **thresholds: float) -> dict[str, float]:
        """Set the support backend's thresholds it has (``support_min``, ``top_k``, ``entail_min``...);
        returns the ones applied (a running replica's ``reconfigure``)."""
        applied = {k: v for k, v in thresholds.items() if hasattr(self._support, k)}
        for key, value in applied.items():
            setattr(self._support, key, value)
        return applied

    def check(self, note: dict[str, Any] | None, segments: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        warnings = [_warning(None, "injection", "This part of the transcript reads like an instruction to the "
                                                "note model; it was kept out of the note.", [sid])
                    for sid in injected_segments(segments)]
        if not note:
            return warnings
        by_id = {seg["id"]: seg for seg in segments}
        transcript = " ".join(seg["text"] for seg in segments)
        allergic = allergies(transcript)
        items = [(section, item) for section in SECTIONS for item in note.get(section) or []]
        evidence = [[by_id[c] for c in item.get("citations") or [] if c in by_id] or list(segments)
                    for _, item in items]
        units = {}  # evidence ids -> units; every unit text and claim is embedded once per note
        for segs in evidence:
            units.setdefault(tuple(seg["id"] for seg in segs), evidence_units(segs))
        texts = list(dict.fromkeys(u.text for us in units.values() for u in us))
        row = {t: i for i, t in enumerate(texts)}
        vectors = self._support.embed(texts)
        claims = self._support.embed([item["text"] for _, item in items])
        said = {}
        for k, ((section, item), segs) in enumerate(zip(items, evidence)):
            ids = tuple(seg["id"] for seg in segs)
            item_units = units[ids]
            result = self._support.check([item["text"]], item_units, vectors[[row[u.text] for u in item_units]]
                                         if item_units else None, claims[k:k + 1])[0]
            if result.outcome == "contradicted":
                warnings.append(_warning(item["id"], "contradicted", "The transcript says the opposite of "
                                                                     "this item.", result.evidence))
            elif result.outcome == "unsupported":
                warnings.append(_warning(item["id"], "unsupported", "Nothing the item cites says this.", ids))
            if ids not in said:
                said[ids] = extract(" ".join(seg["text"] for seg in segs))
            for finding in check_entities(item["text"], said[ids]):
                warnings.append(_warning(item["id"], finding.kind, finding.message, ids))
            for finding in dose_findings(item["text"]):
                warnings.append(_warning(item["id"], "dose_limit", finding.message, ids))
            if section == "plan":
                for finding in allergy_findings(item["text"], allergic):
                    warnings.append(_warning(item["id"], "allergy", finding.message, ids))
        return warnings
