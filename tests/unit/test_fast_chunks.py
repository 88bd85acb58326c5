"""``PUT /v1/sessions/{sid}/audio/{seq}`` on the fast path answers exactly as its FastAPI route does:
the same status, body and ``Retry-After`` for every success and error API.md lists, in the same order
(401 before the body is read, 404 before decoding, 413 before the whole body arrives)."""
from __future__ import annotations

import asyncio
import io
import wave

import pytest
from fastapi.testclient import TestClient

from bench.harness.fakes.local_store import local_client
from serve_app.config import LimitsConfig
from serve_app.ingress import routes
from serve_app.ingress.auth import TokenAuth
from serve_app.ingress.fast_chunks import FastChunkUploads
from serve_app.ingress.routes import create_api
from serve_app.ingress.service import ScribeService
from serve_app.sessions.disk_journal import DiskJournal
from serve_app.sessions.store import SessionStore

pytestmark = pytest.mark.unit

TOKENS = {"alice-token-0123456789": "alice", "bob-token-0123456789": "bob"}
ALICE, BOB = ({"Authorization": f"Bearer {t}"} for t in TOKENS)
LIMITS = LimitsConfig(max_chunk_bytes=64_000, max_chunk_seconds=1.0)


def _wav(seconds: float) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000)
        w.writeframes(b"\x00\x01" * int(16000 * seconds))
    return out.getvalue()


def _app(tmp_path, fast: bool, limits: LimitsConfig = LIMITS):
    store = SessionStore(DiskJournal(tmp_path))
    service = ScribeService(local_client(store), lambda sid: None, limits, {})
    return TestClient(create_api(service, TokenAuth(TOKENS), 15.0, fast_uploads=fast)), store, service


def _streamed(data: bytes):  # no Content-Length: the body arrives in pieces (chunked)
    for k in range(0, len(data), 8192):
        yield data[k:k + 8192]


def _answers(client: TestClient, sid: str) -> list[tuple]:
    """The same requests, in the same order, against one app; (status, body, Retry-After) of each."""
    wav = _wav(0.5)
    requests = [
        ("PUT", f"/v1/sessions/{sid}/audio/0", wav, {**ALICE, "Content-Type": "audio/wav"}),    # 202
        ("PUT", f"/v1/sessions/{sid}/audio/0", wav, {**ALICE, "Content-Type": "audio/wav"}),    # duplicate
        ("PUT", f"/v1/sessions/{sid}/audio/0", _wav(0.25), {**ALICE, "Content-Type": "audio/wav"}),  # conflict
        ("PUT", f"/v1/sessions/{sid}/audio/007", wav, {**ALICE, "Content-Type": "audio/wav"}),  # seq 7
        ("PUT", f"/v1/sessions/{sid}/audio/1", wav, {"Content-Type": "audio/wav"}),             # no token
        ("PUT", f"/v1/sessions/{sid}/audio/1", wav, {"Authorization": "Bearer nope-nope-nope"}),
        ("PUT", f"/v1/sessions/{sid}/audio/1", b"not audio", {**BOB, "Content-Type": "audio/wav"}),  # stranger
        ("PUT", "/v1/sessions/no-such-session/audio/1", wav, {**ALICE, "Content-Type": "audio/wav"}),
        ("PUT", f"/v1/sessions/{sid}/audio/2", wav, {**ALICE, "Content-Type": "text/plain"}),   # 415
        ("PUT", f"/v1/sessions/{sid}/audio/2", wav, ALICE),                                     # no type
        ("PUT", f"/v1/sessions/{sid}/audio/2", b"RIFF garbage", {**ALICE, "Content-Type": "audio/wav"}),
        ("PUT", f"/v1/sessions/{sid}/audio/2", b"", {**ALICE, "Content-Type": "audio/wav"}),    # empty
        ("PUT", f"/v1/sessions/{sid}/audio/2", _wav(3.0), {**ALICE, "Content-Type": "audio/wav"}),  # 413 bytes
        ("PUT", f"/v1/sessions/{sid}/audio/2", _streamed(_wav(3.0)), {**ALICE, "Content-Type": "audio/wav"}),
        ("PUT", f"/v1/sessions/{sid}/audio/2", _wav(1.5), {**ALICE, "Content-Type": "audio/wav"}),  # too long
        ("PUT", f"/v1/sessions/{sid}/audio/2", b"\0" * 70_000, {**ALICE, "Content-Type": "audio/wav"}),  # bytes
        ("PUT", f"/v1/sessions/{sid}/audio/2", _streamed(b"\0" * 70_000), {**ALICE, "Content-Type": "audio/wav"}),
        ("PUT", f"/v1/sessions/{sid}/audio/99999999999", wav, {**ALICE, "Content-Type": "audio/wav"}),
        ("PUT", f"/v1/sessions/{sid}/audio/-1", wav, {**ALICE, "Content-Type": "audio/wav"}),   # FastAPI's
        ("PUT", f"/v1/sessions/{sid}/audio/two", wav, {**ALICE, "Content-Type": "audio/wav"}),  # FastAPI's
        ("PUT", f"/v1/sessions/{sid}/audio/3", _streamed(wav), {**ALICE, "Content-Type": "audio/wav"}),  # 202
    ]
    out = []
    for method, path, content, headers in requests:
        reply = client.request(method, path, content=content, headers=headers)
        out.append((path.rsplit("/", 1)[-1], reply.status_code, reply.json(), reply.headers.get("retry-after")))
    return out


def test_every_answer_is_the_fastapi_routes_answer(tmp_path):
    fast, fast_store, _ = _app(tmp_path / "fast", fast=True)
    slow, slow_store, _ = _app(tmp_path / "slow", fast=False)
    fast_sid = fast.post("/v1/sessions", json={}, headers=ALICE).json()["session_id"]
    slow_sid = slow.post("/v1/sessions", json={}, headers=ALICE).json()["session_id"]
    got = _answers(fast, fast_sid)
    assert got == _answers(slow, slow_sid)
    statuses = [status for _, status, _, _ in got]
    assert statuses == [202, 202, 409, 202, 401, 401, 404, 404, 415, 415, 422, 422, 413, 413, 413, 413, 413, 422, 422,
                        422, 202], got
    # past the byte limit, declared or streamed, before any decoding (not the decoder's 422 for those zeros)
    assert [body["error"]["code"] for _, _, body, _ in got[15:17]] == ["payload_too_large"] * 2
    assert got[1][2] == {"seq": 0, "duplicate": True}
    for store, sid in ((fast_store, fast_sid), (slow_store, slow_sid)):
        assert store.api.get_state("alice", sid)["chunks"]["received"] == 3  # seq 0, 7 and 3; nothing else


def test_the_fast_path_really_skips_fastapi(tmp_path, monkeypatch):
    client, store, _ = _app(tmp_path, fast=True)
    sid = client.post("/v1/sessions", json={}, headers=ALICE).json()["session_id"]

    async def not_here(request, limit):
        raise AssertionError("the FastAPI route read this body")

    monkeypatch.setattr(routes, "read_body", not_here)  # the route's body reader, looked up per request
    reply = client.put(f"/v1/sessions/{sid}/audio/0", content=_wav(0.5), headers={**ALICE, "Content-Type": "audio/wav"})
    assert reply.status_code == 202 and reply.json() == {"seq": 0, "duplicate": False}
    assert store.api.get_state("alice", sid)["chunks"]["received"] == 1


def test_a_store_that_does_not_answer_is_a_503_request_timeout(tmp_path):
    _, store, service = _app(tmp_path, fast=True, limits=LimitsConfig(request_timeout_s=0.2))
    sid = store.api.create_session("alice")["session_id"]

    async def stuck(*args):
        await asyncio.sleep(30)

    service.put_chunk = stuck  # the middleware holds the service's bound method: rebuild the app
    client = TestClient(create_api(service, TokenAuth(TOKENS), 15.0))
    reply = client.put(f"/v1/sessions/{sid}/audio/0", content=_wav(0.5), headers={**ALICE, "Content-Type": "audio/wav"})
    assert reply.status_code == 503 and reply.json()["error"]["code"] == "request_timeout"
    assert reply.headers["retry-after"]


def test_a_client_gone_mid_body_stores_nothing_and_gets_no_answer():
    sent, stored = [], []

    async def put_chunk(*args):
        stored.append(args)
        return {"seq": 0, "duplicate": False}

    async def app(scope, receive, send):
        raise AssertionError("passed on")

    pieces = iter([{"type": "http.request", "body": b"RIFF", "more_body": True}, {"type": "http.disconnect"}])

    async def receive():
        return next(pieces)

    async def send(message):
        sent.append(message)

    middleware = FastChunkUploads(app, clinician=lambda h: "alice", put_chunk=put_chunk, max_bytes=1000, timeout_s=5)
    scope = {"type": "http", "method": "PUT", "path": "/v1/sessions/s1/audio/0", "headers": []}
    asyncio.run(middleware(scope, receive, send))
    assert sent == [] and stored == []
