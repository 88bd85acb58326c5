"""Hostile or odd requests against the real FastAPI app over a local store (review H4, M6, M7, L3-L5):
event-stream caps, a deadline for slow requests, an anonymous /healthz that says only up or down,
bounded segment ids, non-ASCII clinician ids, non-finite numbers."""
from __future__ import annotations

import asyncio

import pytest
from fastapi.testclient import TestClient

from bench.harness.fakes.local_store import local_client
from serve_app.config import LimitsConfig
from serve_app.errors import TooManyRequests
from serve_app.ingress.auth import TokenAuth
from serve_app.ingress.routes import create_api
from serve_app.ingress.service import ScribeService
from serve_app.ingress.streams import StreamSlots
from serve_app.sessions.disk_journal import DiskJournal
from serve_app.sessions.store import SessionStore

TOKENS = {"alice-token-0123456789": "alice", "zoe-token-0123456789": "zoë"}


class Clock:
    t = 0.0

    def __call__(self):
        return self.t


def _client(tmp_path, limits: LimitsConfig | None = None, checks=None):
    store = SessionStore(DiskJournal(tmp_path))
    service = ScribeService(local_client(store), lambda sid: None, limits or LimitsConfig(), checks or {})
    return TestClient(create_api(service, TokenAuth(TOKENS), 15.0)), store


def _h(token="alice-token-0123456789"):
    return {"Authorization": f"Bearer {token}"}


def test_stream_caps_per_session_and_clinician_and_release():
    clock = Clock()
    slots = StreamSlots(per_session=2, per_clinician=3, lifetime_s=100, grace_s=10, clock=clock)
    a1, _ = slots.acquire("a", "s1"), slots.acquire("a", "s1")
    with pytest.raises(TooManyRequests) as exc:
        slots.acquire("a", "s1")
    assert exc.value.status_code == 429 and exc.value.code == "too_many_streams" and exc.value.retry_after
    slots.acquire("a", "s2")
    with pytest.raises(TooManyRequests):  # the clinician's cap, on another session
        slots.acquire("a", "s3")
    slots.acquire("b", "s3")  # another clinician is not affected
    a1.release()
    a1.release()  # idempotent: a second release frees nothing more
    slots.acquire("a", "s3")
    with pytest.raises(TooManyRequests):
        slots.acquire("a", "s4")
    clock.t = 111  # past lifetime + grace: slots whose cleanup never ran are reclaimed
    slots.acquire("a", "s4")
    assert slots.open_count("a") == 1


def test_a_stream_over_the_cap_is_a_typed_429(tmp_path):
    client, store = _client(tmp_path, LimitsConfig(max_streams_per_session=1))
    sid = client.post("/v1/sessions", headers=_h(), json={}).json()["session_id"]
    store.book.emit(sid, "finished", {})  # a finished session's stream ends after its events
    with client.stream("GET", f"/v1/sessions/{sid}/events", headers=_h()) as first:
        assert first.status_code == 200
        second = client.get(f"/v1/sessions/{sid}/events", headers=_h())
        assert second.status_code == 429
        assert second.json()["error"]["code"] == "too_many_streams" and second.headers["retry-after"]
        list(first.iter_lines())
    assert client.get(f"/v1/sessions/{sid}/events", headers=_h()).status_code == 200  # the slot came back


def test_a_request_past_its_deadline_is_a_503_with_retry_after(tmp_path):
    async def hang():
        await asyncio.sleep(30)

    store = SessionStore(DiskJournal(tmp_path))
    service = ScribeService(local_client(store), lambda sid: None, LimitsConfig(request_timeout_s=0.2), {})

    async def slow_list(clinician):
        await hang()

    service.list_sessions = slow_list
    client = TestClient(create_api(service, TokenAuth(TOKENS), 15.0))
    r = client.get("/v1/sessions", headers=_h())
    assert r.status_code == 503 and r.json()["error"]["code"] == "request_timeout" and r.headers["retry-after"]


def test_a_started_stream_outlives_the_deadline(tmp_path):
    """The deadline is on the answer starting, not on its length: the UI's Gradio queue and heartbeat
    streams (mounted on this app) and event streams run for a whole consultation."""
    from starlette.responses import StreamingResponse

    store = SessionStore(DiskJournal(tmp_path))
    service = ScribeService(local_client(store), lambda sid: None, LimitsConfig(request_timeout_s=0.2), {})
    api = create_api(service, TokenAuth(TOKENS), 15.0)

    async def ticks():
        for k in range(5):
            await asyncio.sleep(0.1)
            yield f"tick {k}\n".encode()

    @api.get("/ui/gradio_api/queue/data")
    async def queue_data():
        return StreamingResponse(ticks(), media_type="text/event-stream")

    r = TestClient(api).get("/ui/gradio_api/queue/data")
    assert r.status_code == 200 and r.text.count("tick") == 5  # 0.5 s of stream, past a 0.2 s deadline


def test_healthz_tells_strangers_only_up_or_down_and_probes_once_per_ttl(tmp_path):
    probes = []

    async def part():
        probes.append(1)

    client, _ = _client(tmp_path, checks={"asr": part, "store": part})
    for _ in range(20):
        anon = client.get("/healthz")
        assert anon.status_code == 200 and anon.json() == {"status": "ok"}
    assert client.get("/healthz", headers=_h("not-a-token-at-all")).json() == {"status": "ok"}
    assert client.get("/healthz", headers=_h()).json()["deployments"] == {"asr": "ok", "store": "ok"}
    assert len(probes) == 2  # one probe of both parts served all 22 calls


@pytest.mark.parametrize("segment", ["s²", "s" + "9" * 5000, "s-1", "x1", "s１"])
def test_odd_segment_ids_are_404_not_500(tmp_path, segment):
    client, _ = _client(tmp_path)
    sid = client.post("/v1/sessions", headers=_h(), json={}).json()["session_id"]
    r = client.patch(f"/v1/sessions/{sid}/segments/{segment}", headers=_h(), json={"role": "doctor"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "segment_not_found"


def test_a_non_ascii_clinician_id_works_and_stays_private(tmp_path):
    client, _ = _client(tmp_path)
    sid = client.post("/v1/sessions", headers=_h("zoe-token-0123456789"), json={}).json()["session_id"]
    assert client.get(f"/v1/sessions/{sid}", headers=_h("zoe-token-0123456789")).status_code == 200
    other = client.get(f"/v1/sessions/{sid}", headers=_h())
    assert other.status_code == 404 and other.json()["error"]["code"] == "session_not_found"


@pytest.mark.parametrize("value", ["Infinity", "NaN", "-Infinity", "1e999"])
def test_non_finite_times_are_422(tmp_path, value):
    client, _ = _client(tmp_path)
    sid = client.post("/v1/sessions", headers=_h(), json={}).json()["session_id"]
    body = '{"segments": [{"text": "hello", "role": "doctor", "start": %s, "end": 2}]}' % value
    r = client.post(f"/v1/sessions/{sid}/segments", headers={**_h(), "Content-Type": "application/json"},
                    content=body)
    assert r.status_code == 422, r.text
    assert client.get(f"/v1/sessions/{sid}", headers=_h()).json()["segments"] == []
