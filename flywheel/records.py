"""Feedback -> dataset rows (pure functions, no I/O).

One acknowledged feedback (:class:`Feedback`, already masked) becomes:

* ``feedback``: always one row (the raw judgement, with the judged note and,
  for accept / edit, the note the clinician kept);
* ``sft``: accept -> (masked transcript -> generated note); edit -> (masked
  transcript -> the clinician's note);
* ``dpo``: edit whose similarity to the generated note is below
  ``dpo_max_similarity`` (a substantive edit) -> chosen = edited,
  rejected = generated;
* reject: only the ``feedback`` row (the generated note kept as a rejected
  example, with the reason).

Similarity is RapidFuzz's normalised Indel similarity (``fuzz.ratio`` / 100) of
the rendered note texts; the measure and thresholds come from
:class:`FlywheelRules` (``flywheel`` in serve_config.yaml).
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from flywheel.schemas import SCHEMA_VERSION
from serve_app.contracts import SECTIONS

__all__ = ["Feedback", "FlywheelRules", "render_note", "render_transcript", "rows_for", "SECTIONS"]

SYSTEM_PROMPT = ("You are a clinical scribe. Write a SOAP note (subjective, objective, assessment, plan) "
                 "as JSON from this masked doctor-patient transcript; cite the segment ids each item rests on.")


@dataclass(frozen=True)
class FlywheelRules:
    """How feedback is classified (config ``flywheel``)."""

    similarity: str = "indel"  # rapidfuzz fuzz.ratio on rendered notes
    dpo_max_similarity: float = 0.9  # an edit at or above this is cosmetic: SFT only, no DPO pair


@dataclass(frozen=True)
class Feedback:
    """One clinician judgement, already masked and pseudonymised (what the writer spools)."""

    feedback_id: str
    session: str
    clinician: str
    action: str  # accept | edit | reject
    note_version: int
    generated_note: dict[str, Any]
    segments: list[dict[str, Any]]  # masked: id, text, role
    received_at: float  # epoch seconds
    final_note: dict[str, Any] | None = None  # edit: the clinician's note (masked)
    reason: str | None = None  # masked
    model_id: str | None = None
    prompt_version: str | None = None
    config: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(self.__dict__, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "Feedback":
        return cls(**json.loads(text))


def render_note(note: dict[str, Any] | None) -> str:
    """The note as plain text, one ``SECTION: item`` line per item (what similarity compares)."""
    lines = []
    for section in SECTIONS:
        for item in (note or {}).get(section) or []:
            lines.append(f"{section.upper()}: {item.get('text', '')}")
    return "\n".join(lines)


def _note_json(note: dict[str, Any] | None) -> str:
    """The note in the served shape (sections of ``{id, text, citations}``), stable key order."""
    clean = {s: [{"id": i.get("id"), "text": i.get("text", ""), "citations": list(i.get("citations") or [])}
                 for i in (note or {}).get(s) or []] for s in SECTIONS}
    return json.dumps(clean, sort_keys=False, ensure_ascii=False)


def render_transcript(segments: list[dict[str, Any]]) -> str:
    """``[s0] Doctor: ...`` lines of the masked transcript."""
    return "\n".join(f"[{s['id']}] {(s.get('role') or 'speaker').capitalize()}: {s['text']}" for s in segments)


def similarity(a: str, b: str) -> float:
    from rapidfuzz import fuzz

    return round(fuzz.ratio(a, b) / 100.0, 4)


def rows_for(fb: Feedback, rules: FlywheelRules) -> dict[str, list[dict[str, Any]]]:
    """The rows ``fb`` adds to each dataset (see the module doc); deterministic."""
    transcript = render_transcript(fb.segments)
    generated = _note_json(fb.generated_note)
    base = {
        "schema_version": SCHEMA_VERSION, "feedback_id": fb.feedback_id, "session": fb.session,
        "clinician": fb.clinician, "note_version": int(fb.note_version), "model_id": fb.model_id,
        "prompt_version": fb.prompt_version, "config": json.dumps(fb.config, sort_keys=True),
        "received_at": dt.datetime.fromtimestamp(fb.received_at, tz=dt.timezone.utc),
    }
    action, final_note = fb.action, fb.final_note
    if action == "accept":
        final_note = fb.generated_note
    sim = substantive = None
    if action in ("accept", "edit"):
        before, after = render_note(fb.generated_note), render_note(final_note)
        sim = similarity(before, after)
        if action == "edit" and before == after:
            action = "accept"  # an edit that changed no text is an accept
        substantive = action == "edit" and sim < rules.dpo_max_similarity
    out: dict[str, list[dict[str, Any]]] = {"feedback": [], "sft": [], "dpo": []}
    out["feedback"].append({**base, "action": fb.action, "reason": fb.reason, "transcript": transcript,
                            "generated_note": generated,
                            "final_note": _note_json(final_note) if final_note is not None and fb.action != "reject"
                            else None,
                            "similarity": sim, "substantive": substantive})
    if action in ("accept", "edit"):
        out["sft"].append({**base, "source": action, "messages": [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": transcript},
            {"role": "assistant", "content": _note_json(final_note)},
        ]})
    if substantive:
        out["dpo"].append({**base, "prompt": f"{SYSTEM_PROMPT}\n\n{transcript}", "chosen": _note_json(final_note),
                           "rejected": generated, "similarity": sim})
    return out
