"""``GET /v1/sessions/{sid}/export``: the session's note with the real names restored.

Two renderings of the same note, for the owning clinician only:

* :func:`note_as_text`: plain text, one block per SOAP section;
* :func:`note_as_fhir`: a FHIR ``DocumentReference`` (type LOINC 11506-3 *Progress note* unless
  configured otherwise) whose attachment holds that text, validated with ``fhir.resources``
  (its R4B models: the 4.3 release of FHIR R4, identical to 4.0.1 in every element used here).

The note exported is the session's current note: the final one once the session finished or a
clinician accepted or edited it (``docStatus: final``), else the latest draft (``preliminary``).
Nothing here logs: the output carries PHI by design.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
from typing import Any

from fhir.resources.R4B.documentreference import DocumentReference

from serve_app.config import ExportConfig
from serve_app.contracts import SECTIONS, SessionStateDoc
from serve_app.engines.text import PLACEHOLDER

__all__ = ["restore_names", "note_as_text", "note_as_fhir", "FHIR_MEDIA_TYPE"]

FHIR_MEDIA_TYPE = "application/fhir+json"


def restore_names(text: str, names: dict[str, str]) -> str:
    """``text`` with every known placeholder replaced by its real value (unknown ones kept)."""
    return PLACEHOLDER.sub(lambda m: names.get(m.group(0), m.group(0)), text)


def _final(state: SessionStateDoc) -> bool:
    return state["status"] == "finished"


def note_as_text(state: SessionStateDoc, names: dict[str, str]) -> str:
    """The note as plain text: a heading per section, one line per item, names restored."""
    note = state["note"] or {}
    when = dt.datetime.fromtimestamp(state["updated_at"], dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    kind = "final" if _final(state) else "draft"
    lines = [f"SOAP note ({kind}, version {state['note_version']}, {when})", ""]
    for section in SECTIONS:
        lines.append(section.upper())
        items = note.get(section) or []
        lines += [f"- {restore_names(item['text'], names)}" for item in items] or ["- (nothing recorded)"]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def note_as_fhir(state: SessionStateDoc, names: dict[str, str], clinician: str, cfg: ExportConfig) -> dict[str, Any]:
    """A validated FHIR ``DocumentReference`` (JSON-ready dict) holding :func:`note_as_text`."""
    text = note_as_text(state, names)
    when = dt.datetime.fromtimestamp(state["updated_at"], dt.timezone.utc).isoformat(timespec="seconds")
    # a stable id for this note version that does not reveal the session id (a bearer of access)
    digest = hashlib.sha256(f"{state['session_id']}:{state['note_version']}".encode()).hexdigest()[:32]
    resource = {
        "resourceType": "DocumentReference",
        "id": digest,
        "identifier": [{"system": "urn:clinical-scribe:note", "value": f"{digest}:v{state['note_version']}"}],
        "status": "current",
        "docStatus": "final" if _final(state) else "preliminary",
        "type": {"coding": [{"system": cfg.type_system, "code": cfg.type_code, "display": cfg.type_display}],
                 "text": cfg.type_display},
        "category": [{"coding": [{"system": "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category",
                                  "code": "clinical-note", "display": "Clinical Note"}]}],
        "date": when,
        "author": [{"display": clinician}],
        "description": "SOAP note written by the clinical scribe from the consultation transcript",
        "content": [{"attachment": {"contentType": "text/plain; charset=utf-8", "language": "en",
                                    "data": base64.b64encode(text.encode()).decode(), "title": "SOAP note",
                                    "creation": when}}],
    }
    return DocumentReference.model_validate(resource).model_dump(mode="json", exclude_none=True)
