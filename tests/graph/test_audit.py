"""The audit log through the real graph: names reveals, exports, feedback and deletions recorded,
chained, verifiable with `scribe audit verify`, and free of session ids and PHI."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from serve_app.audit import verify_log
from serve_app.cli import main as scribe

pytestmark = pytest.mark.graph


def test_reveal_export_feedback_and_delete_are_audited(serve_app, alice, bob):
    sid = alice.create_session()
    alice.http.post(f"/v1/sessions/{sid}/segments", json={"segments": [
        {"text": "Beatrice Okafor here, my ankle is swollen since Sunday.", "role": "patient"}]})
    alice.finish(sid)
    alice.wait_finished(sid, timeout=60)
    version = alice.state(sid)["note_version"]
    assert alice.http.get(f"/v1/sessions/{sid}/names").status_code == 200
    assert alice.http.get(f"/v1/sessions/{sid}/export", params={"format": "fhir"}).status_code == 200
    assert alice.http.post(f"/v1/sessions/{sid}/feedback",
                           json={"action": "accept", "note_version": version}).status_code == 201
    assert bob.http.get(f"/v1/sessions/{sid}/names").status_code == 404  # refused: not audited as a reveal
    assert alice.http.delete(f"/v1/sessions/{sid}").status_code == 204

    path = Path(serve_app.data_dir) / "audit" / "audit.jsonl"
    text = path.read_text()
    mine = [json.loads(line) for line in text.splitlines()][-4:]
    assert [(r["actor"], r["action"]) for r in mine] == [
        ("alice", "names_revealed"), ("alice", "exported"), ("alice", "feedback"), ("alice", "deleted")]
    assert len({r["session"] for r in mine}) == 1 and mine[1]["detail"]["format"] == "fhir"
    assert sid not in text and "Beatrice" not in text and "Okafor" not in text
    assert verify_log(path).ok
    assert scribe(["audit", "verify", "--path", str(path)]) == 0
