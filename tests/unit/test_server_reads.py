"""State reads answered in the Ingress's HTTP server (``serve_app.ingress.server_reads``): the same
answers as the app's own path, nothing else taken from Serve, read-your-writes across the two paths,
only on the registered Ingress's loop, counted for the metric, and installed by the builder."""
from __future__ import annotations

import asyncio
import json
import logging
import re

import httpx
import pytest

from bench.harness.fakes.local_store import local_client
from serve_app.config import LimitsConfig
from serve_app.ingress import server_reads
from serve_app.ingress.auth import TokenAuth
from serve_app.ingress.routes import create_api
from serve_app.ingress.server_reads import ServerStateReads, serve_state_reads, stop_serving_state_reads
from serve_app.ingress.service import ScribeService
from serve_app.sessions.disk_journal import DiskJournal
from serve_app.sessions.store import SessionStore
from tests.unit.test_builder_and_config import _graph

TOKENS = {"alice-token-0123456789": "alice", "bob-token-0123456789": "bob"}
ALICE, BOB = ({"Authorization": f"Bearer {t}"} for t in TOKENS)


class Serve:
    """Stands for Serve's request handling behind the server middleware: records what reaches it."""

    def __init__(self, app):
        self.app, self.paths = app, []

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            self.paths.append((scope["method"], scope["path"]))
        await self.app(scope, receive, send)


def _api(tmp_path):
    store = SessionStore(DiskJournal(tmp_path))
    service = ScribeService(local_client(store), lambda sid: None, LimitsConfig(), {})
    return create_api(service, TokenAuth(TOKENS), 15.0)


@pytest.fixture(autouse=True)
def _unregister():
    yield
    stop_serving_state_reads()


def _client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


def _requests(sid: str) -> list[tuple[str, str, dict, dict | None]]:
    """(method, path, headers, json): state reads of every outcome, then other routes and methods."""
    return [("GET", f"/v1/sessions/{sid}", ALICE, None),
            ("GET", f"/v1/sessions/{sid}", BOB, None),  # another clinician's: 404
            ("GET", "/v1/sessions/no-such-session", ALICE, None),
            ("GET", f"/v1/sessions/{sid}", {}, None),  # 401 missing_token
            ("GET", f"/v1/sessions/{sid}", {"Authorization": "Bearer not-a-token"}, None),
            ("GET", f"/v1/sessions/{sid}/names", ALICE, None),
            ("GET", "/v1/sessions", ALICE, None),
            ("PUT", f"/v1/sessions/{sid}", ALICE, None),  # 405
            ("POST", f"/v1/sessions/{sid}/segments", ALICE,
             {"segments": [{"text": "The cough started a week ago.", "role": "patient"}]}),
            ("GET", f"/v1/sessions/{sid}", ALICE, None)]  # after the write: it must show


def _same(body: bytes, sid: str):
    """A body with the session id and the times (the two sessions were made moments apart) taken out."""
    return re.sub(rb'"(created_at|updated_at|ts)":[0-9.e+-]+', b'"T":0', body.replace(sid.encode(), b"SID"))


async def _answers(app, sid: str) -> list[tuple[int, bytes]]:
    async with _client(app) as client:
        out = []
        for method, path, headers, body in _requests(sid):
            reply = await client.request(method, path, headers=headers, json=body)
            out.append((reply.status_code, reply.content))
        return out


def test_the_server_answers_state_reads_exactly_as_the_app_and_hands_everything_else_to_serve(tmp_path):
    async def run():
        plain = _api(tmp_path / "plain")
        served_api = _api(tmp_path / "served")
        serve = Serve(served_api)
        server = ServerStateReads(serve)
        serve_state_reads(served_api.state.state_read, asyncio.get_running_loop())
        sids = []
        for app in (plain, server):
            async with _client(app) as client:
                sids.append((await client.post("/v1/sessions", json={}, headers=ALICE)).json()["session_id"])
        serve.paths.clear()
        expected = await _answers(plain, sids[0])
        got = await _answers(server, sids[1])
        return expected, got, serve.paths, sids

    expected, got, reached, sids = asyncio.run(run())
    assert [status for status, _ in got] == [200, 404, 404, 401, 401, 200, 200, 405, 202, 200]
    for (s1, b1), (s2, b2) in zip(expected, got):
        assert s1 == s2 and _same(b1, sids[0]) == _same(b2, sids[1])
    first, last = (json.loads(got[k][1])["last_event_id"] for k in (0, -1))
    assert last > first  # read-your-writes across the two paths: the POST's event shows at once
    assert reached == [("GET", f"/v1/sessions/{sids[1]}/names"), ("GET", "/v1/sessions"),
                       ("PUT", f"/v1/sessions/{sids[1]}"), ("POST", f"/v1/sessions/{sids[1]}/segments")]


def test_a_request_id_is_echoed_or_made_as_serve_makes_them(tmp_path):
    async def run():
        api = _api(tmp_path)
        serve_state_reads(api.state.state_read, asyncio.get_running_loop())
        async with _client(ServerStateReads(Serve(api))) as client:
            sid = (await client.post("/v1/sessions", json={}, headers=ALICE)).json()["session_id"]
            given = await client.get(f"/v1/sessions/{sid}", headers={**ALICE, "X-Request-ID": "req-42"})
            made = await client.get(f"/v1/sessions/{sid}", headers=ALICE)
            refused = await client.get(f"/v1/sessions/{sid}")
        return given, made, refused

    given, made, refused = asyncio.run(run())
    assert given.headers["x-request-id"] == "req-42"
    assert len(made.headers["x-request-id"]) == 36 and made.headers["x-request-id"] != "req-42"
    assert refused.status_code == 401 and refused.headers["x-request-id"]


def test_refused_and_slow_reads_are_logged_without_the_session_id_fast_ones_are_not(tmp_path, caplog, monkeypatch):
    async def run():
        api = _api(tmp_path)
        serve_state_reads(api.state.state_read, asyncio.get_running_loop())
        async with _client(ServerStateReads(Serve(api))) as client:
            sid = (await client.post("/v1/sessions", json={}, headers=ALICE)).json()["session_id"]
            with caplog.at_level(logging.INFO, logger="scribe.ingress"):
                await client.get(f"/v1/sessions/{sid}", headers=ALICE)
                fast = list(caplog.records)
                await client.get(f"/v1/sessions/{sid}", headers=BOB)
                monkeypatch.setattr(server_reads, "SLOW_READ_MS", 0.0)  # now every read is "slow"
                await client.get(f"/v1/sessions/{sid}", headers=ALICE)
        return sid, fast, [r.getMessage() for r in caplog.records if r.name == "scribe.ingress"]

    sid, fast, lines = asyncio.run(run())
    assert not fast
    assert [line.split()[2] for line in lines] == ["404", "200"]
    assert all(line.startswith("GET /v1/sessions/{sid} ") and sid not in line for line in lines)


def test_without_a_registered_ingress_on_this_loop_every_request_goes_to_serve(tmp_path):
    async def run(register_elsewhere: bool):
        api = _api(tmp_path / str(register_elsewhere))
        serve = Serve(api)
        if register_elsewhere:  # an Ingress whose user code runs on another loop (another thread)
            serve_state_reads(api.state.state_read, asyncio.new_event_loop())
        async with _client(ServerStateReads(serve)) as client:
            sid = (await client.post("/v1/sessions", json={}, headers=ALICE)).json()["session_id"]
            reply = await client.get(f"/v1/sessions/{sid}", headers=ALICE)
        return reply.status_code, serve.paths, sid

    for elsewhere in (False, True):
        status, reached, sid = asyncio.run(run(elsewhere))
        assert status == 200 and ("GET", f"/v1/sessions/{sid}") in reached


def test_answers_are_counted_by_status_for_the_metric_once_a_second(tmp_path, monkeypatch):
    recorded = []
    monkeypatch.setattr(server_reads, "record", lambda name, n, **tags: recorded.append((name, n, tags)))
    monkeypatch.setattr(server_reads, "_FLUSH_S", 0.05)

    async def run():
        api = _api(tmp_path)
        serve_state_reads(api.state.state_read, asyncio.get_running_loop())
        async with _client(ServerStateReads(Serve(api))) as client:
            sid = (await client.post("/v1/sessions", json={}, headers=ALICE)).json()["session_id"]
            for headers in (ALICE, ALICE, ALICE, {}):
                await client.get(f"/v1/sessions/{sid}", headers=headers)
            await asyncio.sleep(0.2)

    asyncio.run(run())
    assert {tags["status"]: n for name, n, tags in recorded if name == "state_reads_total"} == {"200": 3, "401": 1}
    assert len(recorded) == 2  # one flush for the four answers


def test_the_builder_installs_the_server_reads_on_the_ingress_only_and_can_leave_them_off(monkeypatch, tmp_path):
    graph = _graph(monkeypatch, tmp_path, gpus=0.0)
    env = graph["Ingress"].ray_actor_options["runtime_env"]["env_vars"]
    assert env == {"RAY_SERVE_HTTP_PROXY_CALLBACK_IMPORT_PATH": "serve_app.ingress.server_reads:middlewares"}
    assert all(server_reads.CALLBACK_ENV not in d.ray_actor_options.get("runtime_env", {}).get("env_vars", {})
               for name, d in graph.items() if name != "Ingress")
    off = _graph(monkeypatch, tmp_path, gpus=0.0, overrides={"http": {"server_state_reads": False}})
    assert "runtime_env" not in off["Ingress"].ray_actor_options
    # what Serve does with the variable: import the callback and check it returns Starlette middlewares
    from ray.serve._private.http_util import validate_http_proxy_callback_return
    from ray.serve._private.utils import call_function_from_import_path

    (middleware,) = validate_http_proxy_callback_return(call_function_from_import_path(env[server_reads.CALLBACK_ENV]))
    assert middleware.cls is ServerStateReads
