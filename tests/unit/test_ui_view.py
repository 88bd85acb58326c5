"""The page's session view: events folded as the catalogue describes, changes remembered."""
from __future__ import annotations

import pytest

from serve_app.ui.view import SessionView, note_changes

pytestmark = pytest.mark.unit


def _state(**over):
    doc = {"session_id": "abc", "status": "recording", "segments": [], "note": None, "note_version": 0,
           "warnings": [], "warnings_version": 0, "last_event_id": 3}
    doc.update(over)
    return doc


def _note(*texts, section="subjective"):
    note = {"subjective": [], "objective": [], "assessment": [], "plan": []}
    note[section] = [{"id": f"n{i}", "text": t, "citations": [f"s{i}"]} for i, t in enumerate(texts)]
    return note


def test_events_fold_into_segments_roles_note_and_warnings():
    view = SessionView.from_state(_state())
    seg = {"id": "s0", "text": "Hello [PERSON_1]", "start": 0.0, "end": 1.0, "role": "doctor",
           "role_confidence": 0.6, "role_uncertain": True}
    view.apply({"id": 4, "type": "chunk_processed", "ts": 1.0,
                "data": {"seq": 0, "offset_s": 0.0, "cursor": 1.0, "segments": [seg]}})
    view.apply({"id": 5, "type": "chunk_processed", "ts": 2.0,
                "data": {"seq": 1, "offset_s": 4.0, "cursor": 5.0,
                         "segments": [{**seg, "id": "s1", "role": "patient"}],
                         "role_updates": {"s0": {"role": "doctor", "role_confidence": 0.9, "role_uncertain": False}}}})
    view.apply({"id": 6, "type": "role_corrected", "ts": 3.0, "data": {"segment": "s1", "role": "doctor"}})
    view.apply({"id": 7, "type": "note_updated", "ts": 4.0,
                "data": {"version": 1, "basis": 2, "final": False, "note": _note("Headache."), "stats": {}}})
    view.apply({"id": 8, "type": "warnings_updated", "ts": 5.0,
                "data": {"note_version": 1, "warnings": [{"note_item": "n0", "kind": "unsupported",
                                                          "message": "m", "evidence": []}]}})
    assert list(view.segments) == ["s0", "s1"]
    assert view.segments["s0"]["role_uncertain"] is False and view.segments["s0"]["role_confidence"] == 0.9
    assert view.segments["s1"]["role"] == "doctor" and view.segments["s1"]["role_source"] == "clinician"
    assert view.note_version == 1 and view.note_event_ts == 4.0 and len(view.warnings) == 1
    assert view.chunks_processed == {0, 1} and view.last_event_id == 8


def test_events_at_or_before_the_cursor_are_ignored():
    view = SessionView.from_state(_state(last_event_id=10))
    view.apply({"id": 10, "type": "chunk_processed", "ts": 1.0,
                "data": {"seq": 0, "offset_s": 0, "cursor": 1, "segments": [{"id": "s0", "text": "x"}]}})
    assert view.segments == {}


def test_a_new_note_version_marks_what_changed_for_a_moment_and_drops_stale_warnings():
    view = SessionView.from_state(_state(note=_note("Headache.", "No fever."), note_version=1,
                                         warnings=[{"note_item": "n0", "kind": "x", "message": "", "evidence": []}],
                                         warnings_version=1))
    view.apply({"id": 11, "type": "note_updated", "ts": 9.0,
                "data": {"version": 2, "basis": 3, "final": False, "stats": {},
                         "note": _note("Headache for three days.", "No fever.", "Nausea.")}}, now=100.0)
    assert view.recently_changed(now=101.0) == {"n0", "n2"}
    assert view.recently_changed(now=200.0) == set()
    assert view.last_change == "1 new, 1 changed, 0 removed"
    assert view.warnings == []


def test_note_changes_ignore_renumbered_items_and_count_removals():
    before, after = _note("A.", "B.", "C."), _note("B.", "A.")
    added, changed, removed = note_changes(before, after)
    assert added == set() and changed == {"n0", "n1"} and removed == 1
    assert note_changes(None, _note("A."))[0] == {"n0"}


def test_progress_says_what_the_service_is_doing():
    view = SessionView.from_state(_state())
    assert view.progress() == "Waiting for speech…"
    view.apply({"id": 4, "type": "finish_requested", "ts": 1, "data": {}})
    assert view.status == "processing" and view.progress().startswith("Finishing")
    view.apply({"id": 5, "type": "finished", "ts": 2, "data": {}})
    assert view.progress().startswith("Finished")
    view.apply({"id": 6, "type": "deleted", "ts": 0, "data": {"session_id": "abc"}})
    assert view.progress() == "This session was deleted."
