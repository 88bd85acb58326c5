"""GET /v1/sessions/{sid}/export through the real graph: text and FHIR, owner only, 409 without a note."""
from __future__ import annotations

import base64

from fhir.resources.R4B.documentreference import DocumentReference


def _finished_session(client) -> str:
    sid = client.create_session()
    client.http.post(f"/v1/sessions/{sid}/segments", json={"segments": [
        {"text": "Margaret Thompson here, my throat has been sore for three days.", "role": "patient"},
        {"text": "Call me on 555-0199 with the results.", "role": "patient"}]})
    client.finish(sid)
    client.wait_finished(sid, timeout=60)
    return sid


def test_export_text_and_fhir_restore_the_names_for_the_owner_only(alice, bob):
    sid = _finished_session(alice)
    masked = " ".join(i["text"] for section in alice.state(sid)["note"].values() for i in section)
    assert "Margaret Thompson" not in masked and "[PERSON_1]" in masked
    text = alice.http.get(f"/v1/sessions/{sid}/export", params={"format": "text"})
    assert text.status_code == 200 and text.headers["content-type"].startswith("text/plain")
    assert text.headers["cache-control"] == "no-store"
    assert "Margaret Thompson" in text.text and "[PERSON_1]" not in text.text and text.text.startswith("SOAP note (final")
    fhir = alice.http.get(f"/v1/sessions/{sid}/export", params={"format": "fhir"})
    assert fhir.status_code == 200 and fhir.headers["content-type"].startswith("application/fhir+json")
    doc = DocumentReference.model_validate(fhir.json())
    assert doc.type.coding[0].code == "11506-3" and doc.docStatus == "final"
    assert base64.b64decode(fhir.json()["content"][0]["attachment"]["data"]).decode() == text.text
    assert alice.http.get(f"/v1/sessions/{sid}/export").text == text.text  # text is the default
    for fmt in ("text", "fhir"):
        other = bob.http.get(f"/v1/sessions/{sid}/export", params={"format": fmt})
        assert other.status_code == 404 and other.json()["error"]["code"] == "session_not_found"


def test_export_without_a_note_is_409_and_an_unknown_format_422(alice):
    sid = alice.create_session()
    r = alice.http.get(f"/v1/sessions/{sid}/export")
    assert r.status_code == 409 and r.json()["error"]["code"] == "no_note"
    assert alice.http.get(f"/v1/sessions/{sid}/export", params={"format": "pdf"}).status_code == 422
