"""Feedback without Ray: the store's records and final note, idempotent retries, masking of the edited
note with the session's map before anything is spooled, typed errors, and the flywheel CLI."""
from __future__ import annotations

import asyncio
import json
import re

import pytest
from pydantic import ValidationError

from bench.harness.fakes.local_store import local_client
from flywheel.cli import export, stats
from flywheel.phi_scan import PhiScanner
from flywheel.records import Feedback, FlywheelRules
from flywheel.writer import FlywheelWriter
from serve_app.engines.pii.engine import mask_known_values
from serve_app.errors import Conflict, ValidationFailed
from serve_app.ingress.feedback import FeedbackRecorder
from serve_app.ingress.pseudonymizer import Pseudonymizer
from serve_app.ingress.schemas import FeedbackRequest
from serve_app.sessions.disk_journal import DiskJournal
from serve_app.sessions.spec import StoreSpec
from serve_app.sessions.store import SessionStore

pytestmark = pytest.mark.unit

NOTE = {"subjective": [{"id": "n0", "text": "[PERSON_1] reports back pain for four days.", "citations": ["s0"]}],
        "objective": [], "assessment": [], "plan": [{"id": "n1", "text": "Ibuprofen 400 mg.", "citations": ["s0"]}]}


class FakePii:
    """Masks 'Alice Jones' (new) and 555-0199 like the PII deployment would, with the session's map."""

    async def mask_segments(self, segments, names):
        delta, out = {}, []
        for seg in segments:
            text = seg["text"]
            if "Alice Jones" in text:
                delta.setdefault("[PERSON_2]", "Alice Jones")
                text = text.replace("Alice Jones", "[PERSON_2]")
            text = re.sub(r"555-0199", "[PHONE_1]", text)
            if "[PHONE_1]" in text:
                delta["[PHONE_1]"] = "555-0199"
            out.append({**seg, "text": text})
        return out, delta


class FakeFlywheel:
    def __init__(self, writer):
        self.submitted = []
        self._writer = writer

    async def submit(self, fb):
        self.submitted.append(fb)
        return self._writer.submit(Feedback(**fb))


def _session(tmp_path):
    store = SessionStore(DiskJournal(tmp_path / "store"), StoreSpec(finish_grace_s=0))
    sid = store.api.create_session("dr_a")["session_id"]
    batch = store.api.add_segments("dr_a", sid, [{"text": "Bob Stone has back pain."}])["batch"]
    store.work.commit_batch(sid, batch, [{"text": "[PERSON_1] has back pain.", "role": "patient"}],
                       {"[PERSON_1]": "Bob Stone"})
    assert store.notes.commit_note(sid, store.notes.note_inputs(sid)["basis"], NOTE, final=False)
    return store, sid


def _recorder(tmp_path, store):
    writer = FlywheelWriter(str(tmp_path / "fw"), FlywheelRules(), PhiScanner(lambda t: []))
    flywheel = FakeFlywheel(writer)
    rec = FeedbackRecorder(local_client(store), FakePii(), flywheel, Pseudonymizer(b"k" * 32),
                           {"model_id": "m", "prompt_version": "p", "config": {}})
    return rec, flywheel, writer


def _req(**body):
    return FeedbackRequest.model_validate(body)


def test_known_values_get_the_sessions_placeholders():
    assert mask_known_values("Call bob stone today; Bobby is fine.", {"[PERSON_1]": "Bob Stone"}) == \
        "Call [PERSON_1] today; Bobby is fine."


def test_edit_is_masked_before_it_is_spooled_and_becomes_the_final_note(tmp_path):
    store, sid = _session(tmp_path)
    rec, flywheel, writer = _recorder(tmp_path, store)
    edited = {"subjective": [{"text": "Bob Stone reports back pain; daughter Alice Jones on 555-0199.",
                              "citations": ["s0", "s99"]}], "plan": [{"text": "Ibuprofen 200 mg."}]}
    out = asyncio.run(rec.record("dr_a", sid, _req(action="edit", note_version=1, note=edited), "key-1"))
    spooled = json.dumps(flywheel.submitted)
    for value in ("Bob Stone", "Alice Jones", "555-0199", "dr_a", sid):
        assert value not in spooled
    final = store.api.get_state("dr_a", sid)
    assert final["note_version"] == 2
    assert final["note"]["subjective"][0]["text"] == "[PERSON_1] reports back pain; daughter [PERSON_2] on [PHONE_1]."
    assert final["note"]["subjective"][0]["citations"] == ["s0"]  # unknown segment ids dropped
    assert store.api.get_names("dr_a", sid)["[PERSON_2]"] == "Alice Jones"
    assert not store.notes.sessions_needing_notes()  # no model note replaces the clinician's
    again = asyncio.run(rec.record("dr_a", sid, _req(action="edit", note_version=1, note=edited), "key-1"))
    assert again == out and len(flywheel.submitted) == 1 and store.api.get_state("dr_a", sid)["note_version"] == 2
    writer.publish()
    assert stats(str(tmp_path / "fw"))["datasets"]["sft"]["rows"] == 1


def test_retry_after_the_store_failed_lands_on_the_same_id(tmp_path):
    store, sid = _session(tmp_path)
    rec, flywheel, writer = _recorder(tmp_path, store)
    real = store.feedback.record_feedback
    store.feedback.record_feedback = lambda *a, **k: (_ for _ in ()).throw(RuntimeError("store down"))
    with pytest.raises(RuntimeError):
        asyncio.run(rec.record("dr_a", sid, _req(action="reject", note_version=1, reason="wrong"), "k2"))
    store.feedback.record_feedback = real
    out = asyncio.run(rec.record("dr_a", sid, _req(action="reject", note_version=1, reason="wrong"), "k2"))
    assert len(flywheel.submitted) == 2 and {f["feedback_id"] for f in flywheel.submitted} == {out["feedback_id"]}
    assert writer.publish() == 1  # spooled once


def test_bad_feedback_gets_typed_errors(tmp_path):
    store, sid = _session(tmp_path)
    rec, _, _ = _recorder(tmp_path, store)
    with pytest.raises(ValidationFailed):
        asyncio.run(rec.record("dr_a", sid, _req(action="edit", note_version=1), None))
    with pytest.raises(Conflict):
        asyncio.run(rec.record("dr_a", sid, _req(action="accept", note_version=7), None))
    with pytest.raises(ValidationError):
        _req(action="approve", note_version=1)


def test_accept_of_the_current_note_keeps_it_and_stops_model_notes(tmp_path):
    store, sid = _session(tmp_path)
    rec, _, writer = _recorder(tmp_path, store)
    asyncio.run(rec.record("dr_a", sid, _req(action="accept", note_version=1), None))
    state = store.api.get_state("dr_a", sid)
    assert state["note_version"] == 1 and state["note"] == NOTE
    batch = store.api.add_segments("dr_a", sid, [{"text": "More."}])["batch"]
    store.work.commit_batch(sid, batch, [{"text": "More.", "role": "patient"}], None)
    assert not store.notes.sessions_needing_notes()
    writer.publish()
    path = tmp_path / "out.jsonl"
    assert export(str(tmp_path / "fw"), "sft", str(path)) == 1
    row = json.loads(path.read_text())
    assert [m["role"] for m in row["messages"]] == ["system", "user", "assistant"]
    assert "[PERSON_1] has back pain." in row["messages"][1]["content"]


def test_pseudonyms_are_stable_and_keyed():
    a, b = Pseudonymizer(b"a" * 32), Pseudonymizer(b"b" * 32)
    assert a.id("clinician", "dr_a") == a.id("clinician", "dr_a") != b.id("clinician", "dr_a")
    assert "dr_a" not in a.id("clinician", "dr_a")
