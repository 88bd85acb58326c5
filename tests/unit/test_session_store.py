"""Session store logic without Ray: order, idempotency, conflicts, gaps, durability."""
from __future__ import annotations

import asyncio

import pytest

from serve_app.errors import Conflict, NotFound, Overloaded
from serve_app.sessions.disk_journal import DiskJournal
from serve_app.sessions.spec import StoreSpec
from serve_app.sessions.store import SessionStore


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


@pytest.fixture()
def clock():
    return Clock()


@pytest.fixture()
def store(tmp_path, clock):
    return SessionStore(DiskJournal(tmp_path), StoreSpec(max_pending_chunks=5, finish_grace_s=10), clock=clock)


def put(store, sid, seq, data=None, owner="a"):
    return store.api.put_chunk(owner, sid, seq, data or f"chunk{seq}".encode(), "audio/wav", 2.0, 1)


def process(store, sid, segments_per_chunk=1):
    """Act as the pipeline: commit work items until none is left."""
    done = []
    while True:
        item = store.work.next_work(sid)
        if item.kind == "chunk":
            segs = [{"text": f"c{item.seq}", "start": item.offset, "end": item.offset + 1}] * segments_per_chunk
            assert store.work.commit_chunk(sid, item.seq, item.offset, item.offset + 2.0, segs, None)
            done.append(item.seq)
        elif item.kind == "batch":
            raw = store.work.batch_segments(sid, item.batch)
            store.work.commit_batch(sid, item.batch, raw, {"[PERSON_1]": "Ann"})
        elif item.kind == "flush":
            store.work.commit_flush(sid, [], None)
        elif item.kind == "final_note":
            note = {"subjective": [{"id": "n0", "text": "x", "citations": ["s0"]}],
                    "objective": [], "assessment": [], "plan": []}
            assert store.notes.commit_note(sid, item.basis, note, final=True)
        elif item.kind == "finish":
            store.work.mark_finished(sid)
        elif item.kind == "skip_missing":
            store.work.skip_missing(sid)
        else:
            return done, item.kind


def test_chunks_apply_in_seq_order_and_wait_for_gaps(store):
    sid = store.api.create_session("a")["session_id"]
    for seq in (2, 0, 3):
        put(store, sid, seq)
    done, kind = process(store, sid)
    assert done == [0] and kind == "idle"
    assert store.api.get_state("a", sid)["chunks"]["missing"] == [1]
    put(store, sid, 1)
    done, _ = process(store, sid)
    assert done == [1, 2, 3]
    state = store.api.get_state("a", sid)
    assert [s["text"] for s in state["segments"]] == ["c0", "c1", "c2", "c3"]
    assert [s["id"] for s in state["segments"]] == ["s0", "s1", "s2", "s3"]
    assert state["chunks"] == {"received": 4, "processed": 4, "missing": [], "failed": []}


def test_repeat_is_noop_and_conflict_is_409(store):
    sid = store.api.create_session("a")["session_id"]
    assert put(store, sid, 0)["duplicate"] is False
    before = store.api.get_state("a", sid)["last_event_id"]
    assert put(store, sid, 0)["duplicate"] is True
    assert store.api.get_state("a", sid)["last_event_id"] == before
    with pytest.raises(Conflict) as info:
        put(store, sid, 0, b"other bytes")
    assert info.value.status_code == 409 and info.value.code == "chunk_conflict"


def test_commit_is_idempotent(store):
    sid = store.api.create_session("a")["session_id"]
    put(store, sid, 0)
    item = store.work.next_work(sid)
    assert store.work.commit_chunk(sid, 0, item.offset, 2.0, [{"text": "x"}], None)
    assert not store.work.commit_chunk(sid, 0, item.offset, 2.0, [{"text": "x"}], None)
    assert len(store.api.get_state("a", sid)["segments"]) == 1


def test_other_owner_sees_404(store):
    sid = store.api.create_session("a")["session_id"]
    for call in (lambda: store.api.get_state("b", sid), lambda: put(store, sid, 0, owner="b"),
                 lambda: store.api.get_names("b", sid), lambda: store.api.delete_session("b", sid)):
        with pytest.raises(NotFound):
            call()
    assert store.api.list_sessions("b") == []


def test_backpressure(store):
    sid = store.api.create_session("a")["session_id"]
    for seq in range(1, 6):
        put(store, sid, seq)  # seq 0 missing: nothing can be processed
    with pytest.raises(Overloaded) as info:
        put(store, sid, 6)
    assert info.value.status_code == 503 and info.value.retry_after


def test_finish_skips_gaps_after_grace(store, clock):
    sid = store.api.create_session("a")["session_id"]
    put(store, sid, 0)
    put(store, sid, 2)
    store.api.request_finish("a", sid)
    done, kind = process(store, sid)
    assert done == [0] and kind == "wait"
    clock.t += 11
    done, _ = process(store, sid)
    state = store.api.get_state("a", sid)
    assert done == [2] and state["status"] == "finished"
    with pytest.raises(Conflict):
        put(store, sid, 1)


def test_everything_survives_a_restart(tmp_path, clock):
    store = SessionStore(DiskJournal(tmp_path), clock=clock)
    sid = store.api.create_session("a", idempotency_key="k1")["session_id"]
    put(store, sid, 0)
    put(store, sid, 1)
    store.api.add_segments("a", sid, [{"text": "hello Ann"}], idempotency_key="b1")
    process(store, sid)
    put(store, sid, 2)  # acknowledged, not processed yet
    before = store.api.get_state("a", sid)

    again = SessionStore(DiskJournal(tmp_path), clock=clock)  # as after a crash
    assert again.api.get_state("a", sid) == before
    assert again.api.get_names("a", sid) == {"[PERSON_1]": "Ann"}
    assert again.api.create_session("a", idempotency_key="k1")["session_id"] == sid
    assert again.api.add_segments("a", sid, [{"text": "dup"}], idempotency_key="b1")["replayed"] is True
    done, _ = process(again, sid)
    assert done == [2]
    assert [s["text"] for s in again.api.get_state("a", sid)["segments"]].count("c2") == 1


def test_torn_journal_line_is_ignored(tmp_path, clock):
    store = SessionStore(DiskJournal(tmp_path), clock=clock)
    sid = store.api.create_session("a")["session_id"]
    put(store, sid, 0)
    with open(tmp_path / "sessions" / sid / "events.jsonl", "ab") as f:
        f.write(b'{"id": 3, "type": "chunk_rec')  # crash mid-append
    again = SessionStore(DiskJournal(tmp_path), clock=clock)
    assert again.api.get_state("a", sid)["chunks"]["received"] == 1
    put(again, sid, 1)
    assert SessionStore(DiskJournal(tmp_path), clock=clock).api.get_state("a", sid)["chunks"]["received"] == 2


def test_delete_erases_files(tmp_path, store):
    sid = store.api.create_session("a")["session_id"]
    put(store, sid, 0)
    store.api.delete_session("a", sid)
    assert not (tmp_path / "sessions" / sid).exists()
    with pytest.raises(NotFound):
        store.api.get_state("a", sid)


def test_wait_events_long_polls_and_resumes(store):
    sid = store.api.create_session("a")["session_id"]

    async def scenario():
        waiter = asyncio.create_task(store.api.wait_events("a", sid, after=1, timeout_s=5))
        await asyncio.sleep(0.05)
        put(store, sid, 0)
        got = await waiter
        assert [e["type"] for e in got["events"]] == ["chunk_received"] and not got["finished"]
        everything = await store.api.wait_events("a", sid, after=0, timeout_s=0.01)
        assert [e["id"] for e in everything["events"]] == [1, 2]
        assert "owner" not in everything["events"][0]["data"]

    asyncio.run(scenario())


def _labelled_session(store):
    sid = store.api.create_session("a")["session_id"]
    put(store, sid, 0)
    item = store.work.next_work(sid)
    segs = [{"text": "hello", "role": "doctor", "role_confidence": 0.6, "role_source": "model",
             "_voice": [[1.0, 0.5]]},
            {"text": "hi", "role": "patient", "role_confidence": 0.9, "role_source": "model"}]
    assert store.work.commit_chunk(sid, 0, item.offset, 2.0, segs, None)
    return sid


def test_role_correction_is_durable_kept_and_bumps_the_note_input(store, tmp_path, clock):
    sid = _labelled_session(store)
    before = store.book.sessions[sid].input_revision
    seg = store.api.correct_role("a", sid, "s0", "patient")
    assert seg == {"text": "hello", "role": "patient", "role_confidence": 1.0, "role_source": "clinician",
                   "role_uncertain": False, "id": "s0"}
    assert store.book.sessions[sid].input_revision == before + 1
    # a repeat changes nothing; a later inference may not overwrite it, but may revise s1
    store.api.correct_role("a", sid, "s0", "patient")
    assert store.book.sessions[sid].input_revision == before + 1
    put(store, sid, 1)
    item = store.work.next_work(sid)
    store.work.commit_chunk(sid, 1, item.offset, 4.0, [], None,
                       role_updates={"s0": {"role": "doctor", "role_source": "model"},
                                     "s1": {"role": "doctor", "role_confidence": 0.8, "role_source": "model"}})
    reloaded = SessionStore(DiskJournal(tmp_path), clock=clock)
    state = reloaded.api.get_state("a", sid)
    assert [(s["role"], s["role_source"]) for s in state["segments"]] == [("patient", "clinician"),
                                                                            ("doctor", "model")]
    with pytest.raises(NotFound):
        store.api.correct_role("a", sid, "s9", "doctor")
    with pytest.raises(NotFound):
        store.api.correct_role("b", sid, "s0", "doctor")


def test_voice_features_stay_inside_the_store(store):
    sid = _labelled_session(store)
    state = store.api.get_state("a", sid)
    assert all(not k.startswith("_") for seg in state["segments"] for k in seg)
    events = asyncio.run(store.api.wait_events("a", sid, 0, 0.01))["events"]
    assert all(not k.startswith("_") for e in events for seg in e["data"].get("segments", []) for k in seg)
    assert store.work.role_context(sid)["segments"][0]["_voice"] == [[1.0, 0.5]]


def test_a_correction_after_finish_asks_for_a_new_final_note(store):
    sid = _labelled_session(store)
    store.api.request_finish("a", sid)
    process(store, sid)
    state = store.book.sessions[sid]
    assert state.finished and not state.note_stale()
    version = state.note_version
    store.api.correct_role("a", sid, "s1", "doctor")
    assert sid in store.notes.sessions_needing_notes()
    note = {"subjective": [], "objective": [], "assessment": [], "plan": []}
    assert not store.notes.commit_note(sid, state.input_revision, note, final=False)
    assert store.notes.commit_note(sid, state.input_revision, note, final=True)
    assert state.note_version == version + 1 and not state.note_stale()
    assert not store.notes.commit_note(sid, state.input_revision, note, final=True)


def test_final_note_is_checked_before_the_session_finishes(tmp_path, clock):
    store = SessionStore(DiskJournal(tmp_path), StoreSpec(finish_grace_s=10, checks=True), clock=clock)
    sid = _labelled_session(store)
    note = {"subjective": [{"id": "n0", "text": "x", "citations": ["s0"]}], "objective": [], "assessment": [],
            "plan": []}
    assert store.notes.commit_note(sid, store.book.sessions[sid].input_revision, note, final=False)
    assert store.notes.sessions_needing_checks() == [sid]
    assert not store.notes.commit_warnings(sid, 0, [])  # not the current note
    assert store.notes.commit_warnings(sid, 1, [{"note_item": "n0", "kind": "unsupported", "message": "m",
                                           "evidence": ["s0"]}])
    assert store.api.get_state("a", sid)["warnings"][0]["kind"] == "unsupported"
    assert store.notes.sessions_needing_checks() == [] and not store.notes.commit_warnings(sid, 1, [])
    store.api.request_finish("a", sid)
    item = store.work.next_work(sid)
    assert item.kind == "final_note"
    assert store.notes.commit_note(sid, item.basis, note, final=True)
    item = store.work.next_work(sid)
    assert (item.kind, item.note_version) == ("final_checks", 2)
    assert not store.work.mark_finished(sid)
    assert store.notes.commit_warnings(sid, 2, [])
    assert store.work.next_work(sid).kind == "finish" and store.work.mark_finished(sid)
    reloaded = SessionStore(DiskJournal(tmp_path), StoreSpec(checks=True), clock=clock)
    assert reloaded.api.get_state("a", sid)["warnings_version"] == 2


def test_a_chunk_far_beyond_the_highest_is_refused_and_missing_is_computed_from_gaps(store):
    from serve_app.errors import ValidationFailed

    sid = store.api.create_session("a")["session_id"]
    with pytest.raises(ValidationFailed) as refused:
        put(store, sid, 100_000)
    assert refused.value.code == "seq_out_of_range"
    put(store, sid, 0)
    put(store, sid, 200)  # within the window: gaps 1..199 are missing
    assert store.api.get_state("a", sid)["chunks"]["missing"] == list(range(1, 200))
    state = store.book.sessions[sid]
    state.skipped = list(range(1, 150))
    assert state.missing() == list(range(150, 200))
