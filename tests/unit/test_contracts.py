"""The shapes crossing processes: every journalled event is in the catalogue; the state document validates."""
from __future__ import annotations

import pytest
from pydantic import TypeAdapter

from serve_app.contracts import EVENT_DATA, SECTIONS, SessionStateDoc, event_catalogue_schema, validate_event
from serve_app.sessions.disk_journal import DiskJournal
from serve_app.sessions.model import apply
from serve_app.sessions.spec import StoreSpec
from serve_app.sessions.store import SessionStore
from serve_app.sessions.views import public_event

NOTE = {"subjective": [{"id": "n0", "text": "Knee pain.", "citations": ["s0"]}], "objective": [], "assessment": [],
        "plan": []}


def _every_kind_of_event(tmp_path) -> SessionStore:
    store = SessionStore(DiskJournal(tmp_path), StoreSpec(finish_grace_s=0, checks=True))
    sid = store.api.create_session("a", {"0": "doctor", "1": "patient"}, "key")["session_id"]
    for seq in (0, 1, 3):
        store.api.put_chunk("a", sid, seq, f"c{seq}".encode(), "audio/wav", 2.0, 1)
    store.work.commit_chunk(sid, 0, 0.0, 1.5, [{"text": "my knee", "start": 0.2, "end": 1.0, "role": "patient",
                                               "role_confidence": 0.9, "role_uncertain": False, "source": "asr",
                                               "words": [{"text": "my", "start": 0.2, "end": 0.5}],
                                               "_voice": [[0.1]]}], {"[PERSON_1]": "Ann"})
    store.work.commit_chunk(sid, 1, 2.0, 2.0, [], None, failed="RuntimeError",
                            role_updates={"s0": {"role": "doctor", "role_confidence": 0.8}})
    store.api.add_segments("a", sid, [{"text": "hello"}])
    store.work.commit_batch(sid, 0, [{"text": "hello", "role": "doctor", "start": None, "end": None,
                                      "role_confidence": 1.0, "role_source": "client", "source": "text"}], None)
    store.api.correct_role("a", sid, "s1", "patient")
    store.notes.commit_note(sid, store.notes.note_inputs(sid)["basis"], NOTE, final=False)
    store.notes.commit_warnings(sid, 1, [{"note_item": "n0", "kind": "unsupported", "message": "m", "evidence": []}])
    store.feedback.record_feedback("a", sid, "fb_1", "reject", 1, None, "fk", None)
    store.api.request_finish("a", sid)
    store.work.skip_missing(sid)
    store.work.commit_chunk(sid, 3, 4.0, 5.0, [], None)
    store.work.commit_flush(sid, [{"text": "bye", "start": 5.0, "end": 5.5, "role": None, "role_confidence": None,
                                   "source": "asr", "words": [{"text": "bye", "start": 5.0, "end": 5.5}]}], None)
    item = store.work.next_work(sid)
    store.work.note_failed(sid, item.basis, "RuntimeError")
    store.notes.commit_warnings(sid, 1, [])
    store.work.mark_finished(sid)
    return store


def test_every_event_the_store_writes_is_in_the_catalogue(tmp_path):
    store = _every_kind_of_event(tmp_path)
    (sid,) = store.book.sessions
    seen = set()
    for event in store.book.events[sid]:
        validate_event(public_event(event))
        seen.add(event["type"])
    assert {"session_created", "chunk_received", "chunk_processed", "chunk_failed", "batch_received",
            "batch_processed", "role_corrected", "note_updated", "warnings_updated", "feedback_recorded",
            "finish_requested", "chunks_skipped", "asr_flushed", "note_failed", "finished"} == seen
    TypeAdapter(SessionStateDoc).validate_python(store.api.get_state("a", sid))


def test_validation_catches_a_shape_the_catalogue_does_not_document():
    good = {"id": 1, "type": "role_corrected", "ts": 1.0, "data": {"segment": "s0", "role": "doctor"}}
    validate_event(good)
    with pytest.raises(ValueError):
        validate_event({**good, "data": {"segment": "s0", "role": "doctor", "owner": "alice"}})
    with pytest.raises(ValueError):
        validate_event({**good, "data": {"segment": "s0", "role": "nurse"}})
    with pytest.raises(ValueError):
        validate_event({**good, "type": "something_new"})


def test_the_event_log_replays_into_the_same_state(tmp_path):
    store = _every_kind_of_event(tmp_path)
    (sid,) = store.book.sessions
    again = SessionStore(DiskJournal(tmp_path), StoreSpec(finish_grace_s=0, checks=True))
    assert again.api.get_state("a", sid) == store.api.get_state("a", sid)
    state = again.book.sessions[sid]
    fresh = type(state)(sid)
    for event in again.book.events[sid]:
        apply(fresh, event)
    assert fresh == state


def test_catalogue_schema_resolves_and_sections_are_defined_once():
    catalogue, definitions = event_catalogue_schema()
    assert set(catalogue) == set(EVENT_DATA)
    for entry in catalogue.values():
        assert entry["data"]["$ref"].rsplit("/", 1)[1] in definitions
    from flywheel import records
    from serve_app.engines.guardrails import engine
    from serve_app.engines.notes import facts
    assert records.SECTIONS is SECTIONS and engine.SECTIONS is SECTIONS and facts.SECTIONS is SECTIONS
