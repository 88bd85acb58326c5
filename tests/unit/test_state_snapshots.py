"""State reads from watched snapshots: no store call while nothing changed, and never older than a
change the store reported, a write this ingress acknowledged or an event it handed out."""
from __future__ import annotations

import asyncio
import json

import pytest

from bench.harness.fakes.local_store import local_client
from serve_app.errors import NotFound
from serve_app.ingress.snapshots import StateSnapshots
from serve_app.sessions.disk_journal import DiskJournal
from serve_app.sessions.store import SessionStore

LINE = [{"text": "the cough started on Monday", "role": "patient"}]


@pytest.fixture()
def store(tmp_path):
    return SessionStore(DiskJournal(tmp_path))


def _snapshots(store, **kw) -> StateSnapshots:
    client = local_client(store)
    return StateSnapshots(client.api.get_state_json, client.api.wait_version, **kw)


async def _until(predicate, timeout_s: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition never held"
        await asyncio.sleep(0.005)


def _version(body: bytes) -> int:
    return json.loads(body)["last_event_id"]


def test_unchanged_state_is_read_without_store_calls_and_a_change_is_seen(store):
    sid = store.api.create_session("alice")["session_id"]

    async def run():
        snapshots = _snapshots(store)
        first = await snapshots.read("alice", sid)
        for _ in range(50):
            assert await snapshots.read("alice", sid) == first
        fetched = snapshots.fetches
        store.api.add_segments("alice", sid, LINE)  # a write that did not pass through this ingress
        await _until(lambda: snapshots._watched[sid].body is None)
        after = await snapshots.read("alice", sid)
        return first, fetched, after, snapshots.fetches

    first, fetched, after, fetches = asyncio.run(run())
    assert fetched == 1  # fifty reads, one store call
    assert _version(after) == _version(first) + 1 and fetches == 2


def test_a_write_during_a_fetch_is_not_hidden_by_that_fetch(store):
    """The read that started before the write may show the old state; it is not kept for later reads."""
    sid = store.api.create_session("alice")["session_id"]
    client = local_client(store)
    gate, entered = asyncio.Event(), asyncio.Event()

    async def slow_fetch(who, s):
        answer = await client.api.get_state_json(who, s)
        entered.set()
        await gate.wait()
        return answer

    async def run():
        snapshots = StateSnapshots(slow_fetch, _never_changes)  # only the invalidation can reveal the write
        early = asyncio.create_task(snapshots.read("alice", sid))
        await entered.wait()
        store.api.add_segments("alice", sid, LINE)
        snapshots.invalidate(sid)  # the write's answer is being sent
        gate.set()
        before = await early
        later = await snapshots.read("alice", sid)
        return before, later

    before, later = asyncio.run(run())
    assert _version(later) == _version(before) + 1


def test_an_event_handed_out_drops_an_older_snapshot(store):
    sid = store.api.create_session("alice")["session_id"]

    async def run():
        snapshots = StateSnapshots(local_client(store).api.get_state_json, _never_changes)
        first = await snapshots.read("alice", sid)
        store.api.add_segments("alice", sid, LINE)
        version = _version(first)
        snapshots.saw(sid, version)  # not newer: kept
        kept = snapshots.fetches
        await snapshots.read("alice", sid)
        snapshots.saw(sid, version + 1)  # the client was sent event version + 1
        after = await snapshots.read("alice", sid)
        return kept, snapshots.fetches, _version(after) - version

    kept, fetches, newer = asyncio.run(run())
    assert kept == 1 and fetches == 2 and newer == 1


async def _never_changes(who, sid, version, timeout_s):
    await asyncio.sleep(timeout_s)
    return version


def test_another_clinician_never_gets_the_owners_snapshot(store):
    sid = store.api.create_session("alice")["session_id"]

    async def run():
        snapshots = _snapshots(store)
        await snapshots.read("alice", sid)
        with pytest.raises(NotFound):
            await snapshots.read("bob", sid)
        with pytest.raises(NotFound):
            await snapshots.read("bob", "no-such-session")
        watched = snapshots.watched
        return watched

    assert asyncio.run(run()) == 1  # bob's failed reads left nothing watched


def test_a_deleted_session_ends_its_watch_and_reads_are_404(store):
    sid = store.api.create_session("alice")["session_id"]

    async def run():
        snapshots = _snapshots(store)
        await snapshots.read("alice", sid)
        store.api.delete_session("alice", sid)
        await _until(lambda: snapshots.watched == 0)
        with pytest.raises(NotFound):
            await snapshots.read("alice", sid)

    asyncio.run(run())


def test_watches_are_bounded_and_end_when_nobody_reads(store):
    sids = [store.api.create_session("alice")["session_id"] for _ in range(3)]

    async def run():
        snapshots = _snapshots(store, max_sessions=2, idle_s=0.2, watch_s=0.05)
        for sid in sids:
            await snapshots.read("alice", sid)
        bounded = sorted(snapshots._watched) == sorted(sids[1:])  # the least recently read was dropped
        await _until(lambda: snapshots.watched == 0)
        return bounded

    assert asyncio.run(run())


def test_a_finished_session_is_watched_not_polled(store):
    """The watch waits on a finished session as on a live one (no store call per loop turn)."""
    sid = store.api.create_session("alice")["session_id"]
    store.api.request_finish("alice", sid)
    calls = []
    client = local_client(store)

    async def counting_wait(*args):
        calls.append(1)
        return await client.api.wait_version(*args)

    async def run():
        snapshots = StateSnapshots(client.api.get_state_json, counting_wait, watch_s=0.1)
        await snapshots.read("alice", sid)
        await asyncio.sleep(0.35)

    asyncio.run(run())
    assert 1 <= len(calls) <= 5


def test_the_service_drops_a_snapshot_older_than_an_event_it_hands_out(store):
    from serve_app.config import LimitsConfig
    from serve_app.ingress.service import ScribeService

    sid = store.api.create_session("alice")["session_id"]
    service = ScribeService(local_client(store), lambda sid: None, LimitsConfig(), {})
    service._reads._wait = _never_changes  # only the events route can reveal the change

    async def run():
        first = await service.get_state_json("alice", sid)
        store.api.add_segments("alice", sid, LINE)
        batch = await service.wait_events("alice", sid, _version(first), 0.0)
        after = await service.get_state_json("alice", sid)
        return _version(first), batch["events"][-1]["id"], _version(after)

    first, streamed, after = asyncio.run(run())
    assert streamed == first + 1 and after >= streamed
