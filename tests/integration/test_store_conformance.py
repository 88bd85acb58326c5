"""One conformance suite for both session-store backends: the local-disk journal and Redis.

Every test runs against each backend (``redis`` against a real ``redis-server`` with AOF and
``appendfsync always``).  A "restart" is a new store on the same storage.  No Ray here.
"""
from __future__ import annotations

import json
import os

import pytest

from bench.harness.redis_server import RedisServer, redis_available
from serve_app.durable import new_secret
from serve_app.errors import NotFound, Overloaded
from serve_app.sealing import Sealer
from serve_app.sessions.compaction import compact
from serve_app.sessions.disk_journal import DiskJournal
from serve_app.sessions.model import fold
from serve_app.sessions.spec import StoreSpec
from serve_app.sessions.store import SessionStore
from tests.unit.test_session_store import Clock, process, put

SPEC = StoreSpec(finish_grace_s=0, notes=True, cached_sessions=2)
NOTE = {"subjective": [{"id": "n0", "text": "draft", "citations": ["s0"]}], "objective": [], "assessment": [],
        "plan": []}


class DiskBackend:
    name = "disk"

    def __init__(self, tmp_path):
        self.root = tmp_path / "data"

    def journal(self, sealer=None):
        return DiskJournal(self.root, sealer)

    def corrupt(self, sid, index):
        path = self.root / "sessions" / sid / "events.jsonl"
        lines = path.read_bytes().split(b"\n")
        lines[index] = lines[index].replace(b'"type"', b'"tyqe"')
        path.write_bytes(b"\n".join(lines))

    def drop_catalog(self):
        (self.root / "sessions" / ".catalog").unlink()

    def stored_bytes(self, sid):
        out = b""
        for base, _, files in os.walk(self.root / "sessions" / sid):
            for f in files:
                out += open(os.path.join(base, f), "rb").read()
        return out

    def close(self):
        pass


class RedisBackend:
    name = "redis"

    def __init__(self, tmp_path):
        self.server = RedisServer(tmp_path / "redis").start()
        self.blobs = str(tmp_path / "blobs")
        self._journals = []

    def journal(self, sealer=None):
        from serve_app.sessions.redis_journal import RedisJournal

        journal = RedisJournal.from_url(self.server.url, self.blobs, sealer)
        self._journals.append(journal)
        return journal

    def corrupt(self, sid, index):
        import redis

        r = redis.Redis.from_url(self.server.url)
        record = r.lindex(f"scribe:ev:{sid}", index)
        r.lset(f"scribe:ev:{sid}", index, record.replace(b'"type"', b'"tyqe"'))

    def drop_catalog(self):
        import redis

        redis.Redis.from_url(self.server.url).delete("scribe:catalog", "scribe:catalog:v1")

    def stored_bytes(self, sid):
        import redis

        r = redis.Redis.from_url(self.server.url)
        out = b"".join(r.lrange(f"scribe:ev:{sid}", 0, -1)) + (r.get(f"scribe:names:{sid}") or b"")
        for base, _, files in os.walk(os.path.join(self.blobs, sid)):
            for f in files:
                out += open(os.path.join(base, f), "rb").read()
        return out

    def close(self):
        for journal in self._journals:
            journal.close()
        self.server.stop()


@pytest.fixture(params=["disk", "redis"])
def backend(request, tmp_path):
    if request.param == "redis" and not redis_available():
        pytest.fail("redis-server is not installed (scripts/system_packages.sh installs it)")
    b = (DiskBackend if request.param == "disk" else RedisBackend)(tmp_path)
    yield b
    b.close()


def _store(backend, clock, spec=SPEC, sealer=None):
    return SessionStore(backend.journal(sealer), spec, clock=clock)


def _finished(store, owner="a", key=None, drafts=3):
    sid = store.api.create_session(owner, idempotency_key=key)["session_id"]
    for seq in range(2):
        put(store, sid, seq, owner=owner)
    store.api.add_segments(owner, sid, [{"text": "Ann Smith has a cough", "role": "patient"}])
    process_drafts(store, sid, drafts)
    store.api.request_finish(owner, sid)
    process(store, sid)
    assert store.api.get_state(owner, sid)["status"] == "finished"
    return sid


def process_drafts(store, sid, drafts):
    """Process the pipeline's inputs, writing ``drafts`` draft notes on the way (as while recording)."""
    process(store, sid)
    for i in range(drafts):
        inputs = store.notes.note_inputs(sid)
        store.notes.commit_note(sid, inputs["basis"], {**NOTE, "plan": [{"id": f"p{i}", "text": f"draft {i}",
                                                                          "citations": ["s0"]}]}, final=False)
        store.api.add_segments("a", sid, [{"text": f"more {i}", "role": "doctor"}]) if i < drafts - 1 else None
        process(store, sid)


def test_everything_acknowledged_survives_a_restart_and_reads_the_same(backend):
    clock = Clock()
    store = _store(backend, clock)
    done = _finished(store)
    live = store.api.create_session("a")["session_id"]
    put(store, live, 1)
    put(store, live, 0)
    process(store, live)
    before = {sid: store.api.get_state("a", sid) for sid in (done, live)}
    names = store.api.get_names("a", done)
    restarted = _store(backend, clock)
    assert {sid: restarted.api.get_state("a", sid) for sid in (done, live)} == before
    assert restarted.api.get_names("a", done) == names == {"[PERSON_1]": "Ann"}
    assert restarted.work.next_work(live).kind == "idle" and put(restarted, live, 2)["duplicate"] is False


def test_restart_loads_only_active_sessions_and_finished_ones_on_first_use(backend):
    clock = Clock()
    store = _store(backend, clock)
    finished = [_finished(store, drafts=1) for _ in range(5)]
    live = store.api.create_session("a")["session_id"]
    journal = backend.journal()
    loads = []
    original = journal.load_events
    journal.load_events = lambda sid: loads.append(sid) or original(sid)
    restarted = SessionStore(journal, SPEC, clock=clock)
    assert loads == [live]  # five finished sessions on disk, none read at start
    assert set(restarted.book.sessions) == {live}
    assert restarted.api.get_state("a", finished[0])["status"] == "finished"
    assert loads == [live, finished[0]]
    rows = restarted.api.list_sessions("a")
    assert {r["session_id"] for r in rows} == {live, *finished} and len(loads) == 2  # listing loads nothing
    assert all(r["status"] == "finished" for r in rows if r["session_id"] != live)


def test_memory_holds_active_sessions_plus_a_bounded_cache_of_finished_ones(backend):
    store = _store(backend, Clock())
    finished = [_finished(store, drafts=1) for _ in range(6)]
    live = store.api.create_session("a")["session_id"]
    in_memory = set(store.book.sessions)
    assert live in in_memory and len(in_memory - {live}) <= SPEC.cached_sessions
    for sid in finished:  # each is loaded on demand, and the cache stays bounded
        assert "c0" in [seg["text"] for seg in store.api.get_state("a", sid)["segments"]]
        assert len(set(store.book.sessions) - {live}) <= SPEC.cached_sessions
    with pytest.raises(NotFound):
        store.api.get_state("b", finished[0])  # loading on demand keeps ownership


def test_finished_sessions_are_compacted_and_fold_to_the_same_state(backend):
    clock = Clock()
    store = _store(backend, clock)
    sid = _finished(store, drafts=4)
    full_state = store.api.get_state("a", sid)
    events = backend.journal().load_events(sid)
    kinds = [e["type"] for e in events]
    assert kinds.count("note_updated") == 1  # four drafts and a final note: only the final is kept
    assert compact(events) == events
    assert _store(backend, clock).api.get_state("a", sid) == full_state
    assert [e["id"] for e in events] == sorted(e["id"] for e in events)


def test_a_note_a_clinician_judged_is_kept_by_compaction(backend):
    store = _store(backend, Clock())
    sid = store.api.create_session("a")["session_id"]
    store.api.add_segments("a", sid, [{"text": "cough", "role": "patient"}])
    process_drafts(store, sid, 2)
    judged = store.api.get_state("a", sid)["note_version"]
    store.feedback.record_feedback("a", sid, "fb1", "reject", judged, None, None, None)
    store.api.add_segments("a", sid, [{"text": "fever", "role": "patient"}])
    store.api.request_finish("a", sid)
    process(store, sid)
    versions = [e["data"]["version"] for e in backend.journal().load_events(sid) if e["type"] == "note_updated"]
    assert judged in versions and len(versions) == 2
    assert store.feedback.feedback_context("a", sid, judged)["note"]["plan"][0]["text"] == "draft 1"


def test_a_correction_to_a_finished_session_makes_it_active_across_a_restart(backend):
    clock = Clock()
    store = _store(backend, clock)
    sid = _finished(store, drafts=1)
    store.api.correct_role("a", sid, "s0", "doctor")
    assert sid in store.notes.sessions_needing_notes()
    restarted = _store(backend, clock)
    assert sid in restarted.book.sessions and sid in restarted.notes.sessions_needing_notes()
    inputs = restarted.notes.note_inputs(sid)
    assert restarted.notes.commit_note(sid, inputs["basis"], NOTE, final=True)
    assert restarted.notes.sessions_needing_notes() == []
    assert not _store(backend, clock).book.catalog.get(sid)["active"]


def test_create_idempotency_key_and_request_id_survive_eviction_and_restart(backend):
    clock = Clock()
    store = _store(backend, clock)
    sid = _finished(store, key="visit-1")
    for _ in range(4):
        _finished(store)  # pushes the first out of the cache
    assert sid not in store.book.sessions
    assert store.api.create_session("a", idempotency_key="visit-1") == {"session_id": sid, "replayed": True}
    restarted = _store(backend, clock)
    assert restarted.api.create_session("a", idempotency_key="visit-1")["session_id"] == sid
    live = restarted.api.create_session("a", request_id="r-1")["session_id"]
    again = _store(backend, clock)
    assert again.api.create_session("a", request_id="r-1") == {"session_id": live, "replayed": True}
    assert len(again.api.list_sessions("a")) == 6


def test_a_damaged_record_is_skipped_and_the_rest_still_loads(backend):
    clock = Clock()
    store = _store(backend, clock)
    sid = store.api.create_session("a")["session_id"]
    for seq in range(3):
        put(store, sid, seq)
    backend.corrupt(sid, 2)  # the second chunk_received
    state = _store(backend, clock).api.get_state("a", sid)
    assert state["chunks"]["received"] == 2 and state["chunks"]["missing"] == [1]


def test_a_journal_without_a_catalog_is_indexed_once(backend):
    clock = Clock()
    store = _store(backend, clock)
    done = _finished(store, key="k")
    live = store.api.create_session("a")["session_id"]
    backend.drop_catalog()
    rebuilt = _store(backend, clock)
    assert {r["session_id"] for r in rebuilt.api.list_sessions("a")} == {done, live}
    assert set(rebuilt.book.sessions) == {live}
    assert rebuilt.api.create_session("a", idempotency_key="k")["session_id"] == done
    assert backend.journal().load_catalog() is not None


def test_erasure_removes_everything_and_stays_erased(backend):
    clock = Clock()
    store = _store(backend, clock)
    sid = _finished(store)
    store.api.delete_session("a", sid)
    assert backend.stored_bytes(sid) == b""
    for s in (store, _store(backend, clock)):
        with pytest.raises(NotFound):
            s.api.get_state("a", sid)
        assert s.api.list_sessions("a") == []


def test_phi_at_rest_is_sealed(backend):
    sealer = Sealer([new_secret()])
    store = _store(backend, Clock(), sealer=sealer)
    sid = store.api.create_session("a")["session_id"]
    store.api.add_segments("a", sid, [{"text": "Ann Smith, born 1 May 1970", "role": "patient"}])
    store.book.save_names(sid, {"[PERSON_1]": "Ann Smith"})
    assert b"Ann Smith" not in backend.stored_bytes(sid)
    assert _store(backend, Clock(), sealer=sealer).api.get_names("a", sid) == {"[PERSON_1]": "Ann Smith"}


def test_retention_walks_the_catalog_and_does_each_step_once(backend):
    clock = Clock()
    store = _store(backend, clock, spec=StoreSpec(finish_grace_s=0, notes=False, cached_sessions=0))
    sid = store.api.create_session("a")["session_id"]
    put(store, sid, 0)
    store.api.request_finish("a", sid)
    process(store, sid)
    assert store.retention.sweep(False, 30, 1) == {"sessions_erased": 0, "raw_files_deleted": 1,
                                                   "sessions_voice_removed": 0}
    clock.t += 2 * 86400
    assert store.retention.sweep(False, 30, 1)["sessions_voice_removed"] == 0  # no voice features here
    assert store.book.catalog.get(sid)["voice_removed"] is True
    clock.t += 30 * 86400
    assert store.retention.sweep(False, 30, 1)["sessions_erased"] == 1
    assert backend.stored_bytes(sid) == b""


def test_free_bytes_is_a_number_the_watermark_can_use(backend):
    assert backend.journal().free_bytes() > 0


# -- Redis only: what a server outage does --------------------------------------------------------------
def test_redis_down_is_a_typed_503_nothing_is_acknowledged_and_the_session_continues(tmp_path):
    if not redis_available():
        pytest.fail("redis-server is not installed")
    backend = RedisBackend(tmp_path)
    try:
        clock = Clock()
        store = _store(backend, clock)
        sid = store.api.create_session("a")["session_id"]
        put(store, sid, 0)
        backend.server.kill()
        with pytest.raises(Overloaded) as err:
            put(store, sid, 1)
        assert err.value.code == "store_unavailable" and err.value.status_code == 503
        with pytest.raises(Overloaded):
            store.api.get_state("a", sid)
        backend.server.start()  # the AOF replays what was acknowledged
        assert put(store, sid, 1)["duplicate"] is False  # the same store object carries on
        state = store.api.get_state("a", sid)
        assert state["chunks"]["received"] == 2
        assert _store(backend, clock).api.get_state("a", sid) == state
    finally:
        backend.close()


def test_a_retried_redis_append_is_written_once(tmp_path):
    if not redis_available():
        pytest.fail("redis-server is not installed")
    backend = RedisBackend(tmp_path)
    try:
        journal = backend.journal()
        event = {"id": 1, "type": "session_created", "ts": 1.0, "data": {"owner": "a"}}
        journal.append("x", event)
        journal.append("x", event)  # a reply lost, the call retried
        assert journal.load_events("x") == [event]
        assert fold("x", journal.load_events("x")).owner == "a"
        with pytest.raises(RuntimeError):
            journal.append("x", {**event, "id": 5})  # a gap is a bug, never silently written
        assert json.loads(json.dumps(journal.load_catalog() or {})) == {}
    finally:
        backend.close()


def test_an_active_session_reloaded_after_a_failed_append_stays_in_memory(backend):
    store = _store(backend, Clock())
    finished = [_finished(store, drafts=1) for _ in range(3)]
    live = store.api.create_session("a")["session_id"]
    store.book._evict(live)  # what a failed append does: the journal decides what is true
    put(store, live, 0)  # reloaded on demand
    for sid in finished:  # loading finished sessions fills the LRU ...
        store.api.get_state("a", sid)
    assert live in store.book.sessions  # ... but never pushes an active session out
    assert store.work.sessions_with_work() == [live]


def test_the_state_version_names_one_state_across_restart_eviction_and_compaction(backend):
    """Ingress snapshots trust it (the version ``get_state_json`` returns is ``last_event_id``): the same
    version is the same document, and a change raises it."""
    clock = Clock()
    store = _store(backend, clock)
    done = _finished(store, drafts=3)  # compacted, then evicted as more finish
    for _ in range(SPEC.cached_sessions + 1):
        _finished(store, drafts=1)
    assert done not in store.book.sessions
    state = store.api.get_state("a", done)
    restarted = _store(backend, clock)
    assert restarted.api.get_state("a", done) == state
    restarted.api.correct_role("a", done, "s0", "doctor")  # a change after finishing
    changed = restarted.api.get_state("a", done)
    assert changed["last_event_id"] > state["last_event_id"] and changed != state


def test_wait_version_waits_for_a_change_even_on_a_finished_session(backend):
    import asyncio

    store = _store(backend, Clock())
    sid = _finished(store, drafts=1)
    version = store.api.get_state("a", sid)["last_event_id"]

    async def run():
        behind = await store.api.wait_version("a", sid, version - 1, 5.0)  # already past: at once
        quiet = await store.api.wait_version("a", sid, version, 0.05)  # finished, unchanged: waited
        waiter = asyncio.create_task(store.api.wait_version("a", sid, version, 5.0))
        await asyncio.sleep(0.01)
        store.api.correct_role("a", sid, "s0", "doctor")
        woken = await asyncio.wait_for(waiter, 1.0)
        deleted = asyncio.create_task(store.api.wait_version("a", sid, woken, 5.0))
        await asyncio.sleep(0.01)
        store.api.delete_session("a", sid)
        with pytest.raises(NotFound):
            await asyncio.wait_for(deleted, 1.0)
        return behind, quiet, woken

    assert asyncio.run(run()) == (version, version, version + 1)
