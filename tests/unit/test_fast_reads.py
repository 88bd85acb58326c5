"""``GET /v1/sessions/{sid}`` on the fast path answers as the API contract says: the state document,
typed 401/404 bodies, 503 request_timeout when the store does not answer, other routes untouched."""
from __future__ import annotations

import asyncio
import json

from fastapi.testclient import TestClient

from bench.harness.fakes.local_store import local_client
from serve_app.config import LimitsConfig
from serve_app.ingress.auth import TokenAuth
from serve_app.ingress.routes import create_api
from serve_app.ingress.service import ScribeService
from serve_app.sessions.disk_journal import DiskJournal
from serve_app.sessions.store import SessionStore

TOKENS = {"alice-token-0123456789": "alice", "bob-token-0123456789": "bob"}
ALICE, BOB = ({"Authorization": f"Bearer {t}"} for t in TOKENS)


def _app(tmp_path, limits: LimitsConfig | None = None):
    store = SessionStore(DiskJournal(tmp_path))
    service = ScribeService(local_client(store), lambda sid: None, limits or LimitsConfig(), {})
    return TestClient(create_api(service, TokenAuth(TOKENS), 15.0)), store, service


def test_the_state_document_is_the_stores_and_only_its_owner_reads_it(tmp_path):
    client, store, _ = _app(tmp_path)
    sid = client.post("/v1/sessions", json={}, headers=ALICE).json()["session_id"]
    reply = client.get(f"/v1/sessions/{sid}", headers=ALICE)
    assert reply.status_code == 200 and reply.headers["content-type"] == "application/json"
    assert reply.json() == json.loads(store.api.get_state_json("alice", sid)[1])
    assert int(reply.headers["content-length"]) == len(reply.content)
    other = client.get(f"/v1/sessions/{sid}", headers=BOB)  # another clinician: as if it did not exist
    unknown = client.get("/v1/sessions/no-such-session", headers=ALICE)
    assert other.status_code == unknown.status_code == 404
    assert other.json()["error"]["code"] == unknown.json()["error"]["code"]


def test_missing_and_unknown_tokens_get_the_typed_401(tmp_path):
    client, _, _ = _app(tmp_path)
    sid = client.post("/v1/sessions", json={}, headers=ALICE).json()["session_id"]
    missing = client.get(f"/v1/sessions/{sid}")
    wrong = client.get(f"/v1/sessions/{sid}", headers={"Authorization": "Bearer not-a-known-token"})
    assert missing.status_code == wrong.status_code == 401
    assert missing.json()["error"]["code"] == "missing_token" and wrong.json()["error"]["code"] == "invalid_token"


def test_a_store_that_does_not_answer_is_a_503_request_timeout(tmp_path):
    client, _, service = _app(tmp_path, LimitsConfig(request_timeout_s=0.2))
    sid = client.post("/v1/sessions", json={}, headers=ALICE).json()["session_id"]

    async def stuck(who, s):
        await asyncio.sleep(30)

    service.get_state_json = stuck  # the middleware holds the service's bound method: rebuild the app
    client = TestClient(create_api(service, TokenAuth(TOKENS), 15.0))
    reply = client.get(f"/v1/sessions/{sid}", headers=ALICE)
    assert reply.status_code == 503 and reply.json()["error"]["code"] == "request_timeout"
    assert reply.headers["retry-after"] == "2"


def test_other_routes_and_methods_on_the_path_go_through_fastapi(tmp_path):
    client, _, _ = _app(tmp_path)
    sid = client.post("/v1/sessions", json={}, headers=ALICE).json()["session_id"]
    assert client.get(f"/v1/sessions/{sid}/names", headers=ALICE).status_code == 200
    assert client.get("/v1/sessions", headers=ALICE).json()[0]["session_id"] == sid
    assert client.put(f"/v1/sessions/{sid}", headers=ALICE).status_code == 405  # not answered as a read


def test_the_state_read_never_reaches_the_routed_app_and_everything_else_does():
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from serve_app.ingress.fast_reads import FastStateReads, StateReadAnswer

    routed = []

    async def inner(request):
        routed.append(request.url.path)
        return PlainTextResponse("routed")

    async def read(who, sid):
        return json.dumps({"who": who, "sid": sid}).encode()

    app = Starlette(routes=[Route("/{path:path}", inner, methods=["GET", "POST"])])
    written = []
    answer = StateReadAnswer(clinician=lambda header: header.split()[-1], read=read, timeout_s=5)
    client = TestClient(FastStateReads(app, answer=answer, written=written.append))
    assert client.get("/v1/sessions/s1", headers={"Authorization": "Bearer dr"}).json() == {"who": "dr", "sid": "s1"}
    assert routed == []
    for path in ("/v1/sessions/s1/names", "/v1/sessions", "/v1/sessions/s1/"):
        assert client.get(path).text == "routed"
    assert client.post("/v1/sessions/s1").text == "routed"
    assert routed == ["/v1/sessions/s1/names", "/v1/sessions", "/v1/sessions/s1/", "/v1/sessions/s1"]
    assert written and set(written) == {"s1"}  # the POST to s1; no GET, and no write to a session id


def test_a_write_drops_the_sessions_snapshot_before_its_answer_is_sent():
    from serve_app.ingress.fast_reads import FastStateReads, StateReadAnswer

    log = []

    async def app(scope, receive, send):
        log.append("handled")
        await send({"type": "http.response.start", "status": 202, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    async def send(message):
        log.append(message["type"])

    async def receive():
        return {"type": "http.request", "body": b""}

    async def unused(who, sid):
        raise AssertionError("not a read")

    middleware = FastStateReads(app, answer=StateReadAnswer(clinician=str, read=unused, timeout_s=5),
                                written=lambda sid: log.append(f"written {sid}"))
    scope = {"type": "http", "method": "PUT", "path": "/v1/sessions/s9/audio/3", "headers": []}
    asyncio.run(middleware(scope, receive, send))
    assert log[:3] == ["handled", "written s9", "http.response.start"]
    create = {**scope, "method": "POST", "path": "/v1/sessions"}
    asyncio.run(middleware(create, receive, send))
    assert [e for e in log if e.startswith("written")] == ["written s9", "written s9"]  # + the finally
