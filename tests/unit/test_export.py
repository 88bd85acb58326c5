"""The exported note: names restored, plain text per section, a FHIR DocumentReference that validates."""
from __future__ import annotations

import base64

from fhir.resources.R4B.documentreference import DocumentReference

from serve_app.config import ExportConfig
from serve_app.ingress.export import note_as_fhir, note_as_text, restore_names

NAMES = {"[PERSON_1]": "Margaret Thompson", "[PHONE_1]": "07700 900123"}
STATE = {
    "session_id": "abc", "status": "finished", "created_at": 1764633600.0, "updated_at": 1764634200.0,
    "channels": None, "chunks": {"received": 0, "processed": 0, "missing": [], "failed": []}, "segments": [],
    "note_version": 3, "warnings": [], "warnings_version": 3, "last_event_id": 9,
    "note": {"subjective": [{"id": "n0", "text": "[PERSON_1] has a sore throat for three days.", "citations": ["s1"]}],
             "objective": [], "assessment": [{"id": "n1", "text": "Viral pharyngitis.", "citations": ["s5"]}],
             "plan": [{"id": "n2", "text": "Call [PHONE_1] with results; [PERSON_9] unknown.", "citations": ["s6"]}]},
}


def test_names_are_restored_and_unknown_placeholders_kept():
    assert restore_names("[PERSON_1] at [PHONE_1], [PERSON_9]", NAMES) == \
        "Margaret Thompson at 07700 900123, [PERSON_9]"


def test_text_export_has_every_section_with_real_names():
    text = note_as_text(STATE, NAMES)
    assert text.startswith("SOAP note (final, version 3, 2025-12-02 00:10 UTC)")
    assert "SUBJECTIVE\n- Margaret Thompson has a sore throat for three days." in text
    assert "OBJECTIVE\n- (nothing recorded)" in text
    assert "[PERSON_1]" not in text and "Call 07700 900123 with results" in text


def test_fhir_export_is_a_valid_progress_note_document_reference():
    doc = note_as_fhir(STATE, NAMES, "alice", ExportConfig())
    parsed = DocumentReference.model_validate(doc)  # validates again from the JSON form
    assert parsed.type.coding[0].system == "http://loinc.org" and parsed.type.coding[0].code == "11506-3"
    assert doc["docStatus"] == "final" and doc["author"] == [{"display": "alice"}]
    text = base64.b64decode(doc["content"][0]["attachment"]["data"]).decode()
    assert text == note_as_text(STATE, NAMES) and "Margaret Thompson" in text
    assert "abc" not in doc["id"] and "abc" not in str(doc["identifier"])  # the session id is not exported
    draft = note_as_fhir({**STATE, "status": "recording"}, NAMES, "alice",
                         ExportConfig(type_code="34109-9", type_display="Note"))
    assert draft["docStatus"] == "preliminary" and draft["type"]["coding"][0]["code"] == "34109-9"
