"""Chunk uploads check ownership at the store once per session, not once per chunk, and a stranger
is always asked about at the store (404 before any decoding)."""
from __future__ import annotations

import asyncio
import io
import wave

import pytest

from bench.harness.fakes.local_store import local_client
from serve_app.config import LimitsConfig
from serve_app.errors import NotFound
from serve_app.ingress.ownership import OwnedSessions
from serve_app.ingress.service import ScribeService
from serve_app.sessions.disk_journal import DiskJournal
from serve_app.sessions.store import SessionStore

pytestmark = pytest.mark.unit


def _wav(seconds: float = 0.5) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000)
        w.writeframes(b"\x00\x01" * int(16000 * seconds))
    return out.getvalue()


@pytest.fixture()
def service(tmp_path):
    store = SessionStore(DiskJournal(tmp_path))
    return ScribeService(local_client(store), lambda sid: None, LimitsConfig(), {}), store


def test_chunks_of_one_session_ask_the_store_about_ownership_once(service):
    svc, store = service
    sid = store.api.create_session("alice")["session_id"]

    async def run():
        for seq in range(4):
            await svc.put_chunk("alice", sid, seq, _wav(), "audio/wav")

    asyncio.run(run())
    assert svc._store.calls["session_exists"] == 1 and svc._store.calls["put_chunk"] == 4
    assert store.api.get_state("alice", sid)["chunks"]["received"] == 4


def test_a_stranger_is_refused_before_decoding_every_time(service):
    svc, store = service
    sid = store.api.create_session("alice")["session_id"]

    async def run():
        await svc.put_chunk("alice", sid, 0, _wav(), "audio/wav")  # alice's ownership is now remembered
        for seq in (1, 2):
            with pytest.raises(NotFound):  # not the decoder's 422: the stranger learns nothing
                await svc.put_chunk("mallory", sid, seq, b"not audio at all", "audio/wav")

    asyncio.run(run())
    assert svc._store.calls["session_exists"] == 3 and svc._store.calls["put_chunk"] == 1


def test_after_deletion_the_store_is_asked_again(service):
    svc, store = service
    sid = store.api.create_session("alice")["session_id"]

    async def run():
        await svc.put_chunk("alice", sid, 0, _wav(), "audio/wav")
        await svc.delete_session("alice", sid)
        with pytest.raises(NotFound):  # 404, not a decoding error about a session that is gone
            await svc.put_chunk("alice", sid, 1, b"not audio at all", "audio/wav")

    asyncio.run(run())
    assert svc._store.calls["session_exists"] == 2


def test_a_deletion_elsewhere_is_noticed_at_the_next_store_call(service):
    svc, store = service
    sid = store.api.create_session("alice")["session_id"]

    async def run():
        await svc.put_chunk("alice", sid, 0, _wav(), "audio/wav")
        store.api.delete_session("alice", sid)  # another ingress replica deleted it
        with pytest.raises(NotFound):
            await svc.put_chunk("alice", sid, 1, _wav(), "audio/wav")
        with pytest.raises(NotFound):
            await svc.put_chunk("alice", sid, 2, b"not audio at all", "audio/wav")

    asyncio.run(run())
    assert svc._store.calls["session_exists"] == 2  # forgotten after the store's 404


def test_remembered_pairs_are_bounded_least_recently_used_first():
    asked = []

    async def check(clinician, sid):
        asked.append((clinician, sid))
        return True

    owned = OwnedSessions(check, capacity=2)

    async def run():
        for sid in ("a", "b", "a", "c", "a", "b"):
            await owned.require("alice", sid)

    asyncio.run(run())
    assert asked == [("alice", "a"), ("alice", "b"), ("alice", "c"), ("alice", "b")] and len(owned) == 2
