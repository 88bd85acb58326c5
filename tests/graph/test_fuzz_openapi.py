"""Schemathesis against the running app's own OpenAPI document (issue 15): every operation, bodies,
headers and path parameters generated from the schema (and mutated beyond it), sent over HTTP to the
real Serve graph.  Nothing may answer 5xx (a 503 with ``Retry-After`` excepted: that is the typed
"retry later") and nothing may hang (every call has a timeout).  Path ids point at a real session
half of the time, so the generated bodies reach the store, not only the 404 path; the event stream
(which by design stays open) and DELETE keep their generated ids."""
from __future__ import annotations

import collections
import hashlib

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.transport.requests import REQUESTS_TRANSPORT, binary_serializer

from bench.harness.serve import TOKENS

AUTH = {"Authorization": f"Bearer {TOKENS['alice']}"}
# Audio bodies are bytes: send generated ones as they are (schemathesis 4.32 knows octet-stream only).
REQUESTS_TRANSPORT.serializer("audio/wav", "audio/flac", "audio/ogg", "audio/webm", "audio/L16")(binary_serializer)


@pytest.fixture(scope="module")
def api_schema(serve_app):
    return schemathesis.openapi.from_url(f"{serve_app.url}/openapi.json", headers=AUTH, timeout=30)


@pytest.fixture(scope="module")
def real_sid(serve_app):
    r = httpx.post(f"{serve_app.url}/v1/sessions", json={}, headers=AUTH, timeout=30)
    return r.json()["session_id"]


def _check(case, real_sid, seen) -> None:
    params = case.path_parameters or {}
    keeps_its_id = case.method.upper() == "DELETE" or case.path.endswith("/events")
    if "sid" in params and not keeps_its_id and int(hashlib.sha256(repr(case).encode()).hexdigest(), 16) % 2:
        params["sid"] = real_sid
    headers = {**(case.headers or {}), **AUTH}
    response = case.call(headers=headers, timeout=30)  # a generated id is never a live stream: no hang
    status = response.status_code
    seen[(case.method.upper(), case.path, status)] += 1
    assert status < 500 or (status == 503 and "retry-after" in {k.lower() for k in response.headers}), \
        f"{case.method} {case.formatted_path} -> {status}: {response.text[:300]}"


def test_no_operation_answers_a_server_error_or_hangs(api_schema, real_sid):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 10  # the whole API, not an empty schema
    seen: collections.Counter = collections.Counter()
    for operation in operations:
        @settings(max_examples=25, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def run(case):
            _check(case, real_sid, seen)

        run()
    print("\nfuzzed:", sum(seen.values()), "requests;", dict(sorted(seen.items())))
    assert sum(seen.values()) >= 10 * len(operations)
    assert any(200 <= status < 300 for _, _, status in seen)  # some generated requests reached the store
