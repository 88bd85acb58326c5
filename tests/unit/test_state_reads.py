"""Cheap state reads: rendered once per change in the store, coalesced in the ingress."""
from __future__ import annotations

import asyncio
import json

import pytest

from serve_app.errors import NotFound
from serve_app.ingress.coalesce import Coalescer
from serve_app.sessions.disk_journal import DiskJournal
from serve_app.sessions.spec import StoreSpec
from serve_app.sessions.store import SessionStore


@pytest.fixture()
def store(tmp_path):
    return SessionStore(DiskJournal(tmp_path), StoreSpec())


def test_state_json_is_the_state_document_and_follows_every_change(store):
    sid = store.api.create_session("a")["session_id"]
    version, first = store.api.get_state_json("a", sid)
    assert json.loads(first) == json.loads(json.dumps(store.api.get_state("a", sid)))
    assert version == json.loads(first)["last_event_id"]  # the version is the last event id
    assert store.api.get_state_json("a", sid)[1] is first  # cached: no re-rendering between changes
    store.api.add_segments("a", sid, [{"text": "hello", "role": "doctor"}])
    version, body = store.api.get_state_json("a", sid)
    after = json.loads(body)
    assert after["last_event_id"] == json.loads(first)["last_event_id"] + 1 == version
    with pytest.raises(NotFound):
        store.api.get_state_json("b", sid)


def test_concurrent_reads_share_one_call_that_started_after_them():
    async def run():
        coalescer, version, gate, entered = Coalescer(), {"v": 0}, asyncio.Event(), asyncio.Event()

        async def fetch():
            seen = version["v"]
            entered.set()
            await gate.wait()
            return seen

        first = asyncio.create_task(coalescer.read("k", fetch))
        await entered.wait()
        version["v"] = 1  # a write acknowledged after the first call started...
        late = [asyncio.create_task(coalescer.read("k", fetch)) for _ in range(10)]
        await asyncio.sleep(0)
        gate.set()
        answers = [await first] + [await t for t in late]
        return answers, coalescer.calls

    answers, calls = asyncio.run(run())
    assert answers[0] == 0 and answers[1:] == [1] * 10  # ...is seen by every read that arrived after it
    assert calls == 2


def test_an_error_reaches_its_wave_only_and_the_next_wave_calls_again():
    async def run():
        coalescer, attempts = Coalescer(), []

        async def fetch():
            attempts.append(1)
            await asyncio.sleep(0.01)
            if len(attempts) == 1:
                raise NotFound("No such session.", code="session_not_found")
            return "ok"

        results = await asyncio.gather(*(coalescer.read(("a", "s"), fetch) for _ in range(5)),
                                       return_exceptions=True)
        again = await coalescer.read(("a", "s"), fetch)
        return results, again, len(attempts)

    results, again, attempts = asyncio.run(run())
    assert isinstance(results[0], NotFound)  # the first wave's one caller
    assert results[1:] == ["ok"] * 4 and again == "ok"  # those that arrived during it rode the next call
    assert attempts == 3


def test_keys_keep_clinicians_apart():
    async def run():
        coalescer = Coalescer()

        async def fetch_for(who):
            await asyncio.sleep(0.01)
            return who

        return await asyncio.gather(coalescer.read(("a", "s"), lambda: fetch_for("a")),
                                    coalescer.read(("b", "s"), lambda: fetch_for("b")))

    assert asyncio.run(run()) == ["a", "b"]
