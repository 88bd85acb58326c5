"""The page's API client: typed errors in plain words, and an event stream that resumes."""
from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from serve_app.ui.api import ApiError, ScribeApi, plain_words

pytestmark = pytest.mark.unit


def _sse(*events) -> bytes:
    return "".join(f"id: {e['id']}\nevent: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events).encode()


def test_a_dropped_stream_resumes_after_the_last_event_seen():
    calls: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == "Bearer tok"
        calls.append(request.headers.get("last-event-id"))
        if len(calls) == 1:  # two events, then the connection ends without "finished"
            body = _sse({"id": 4, "type": "chunk_received", "ts": 1, "data": {}},
                        {"id": 5, "type": "chunk_processed", "ts": 2, "data": {}})
        elif len(calls) == 2:
            return httpx.Response(503, json={"error": {"code": "overloaded", "message": "busy"}})
        else:
            body = _sse({"id": 6, "type": "note_updated", "ts": 3, "data": {}},
                        {"id": 7, "type": "finished", "ts": 4, "data": {}})
        return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})

    api = ScribeApi("http://scribe", "tok", transport=httpx.MockTransport(handler))

    async def collect():
        return [e["id"] async for e in api.events("sid", after=3, retry_s=0.0)]

    assert asyncio.run(collect()) == [4, 5, 6, 7]
    assert calls == ["3", "5", "5"]


def test_a_refused_token_is_a_typed_error_with_a_plain_sentence():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": {"code": "invalid_token", "message": "Invalid bearer token."}})

    api = ScribeApi("http://scribe", "wrong", transport=httpx.MockTransport(handler))
    with pytest.raises(ApiError) as caught:
        asyncio.run(api.list_sessions())
    assert caught.value.status == 401 and not caught.value.retryable
    assert plain_words(caught.value) == "That token was not accepted. Check it and sign in again."
    assert plain_words(ApiError(418, "teapot", "The API's own sentence.")) == "The API's own sentence."


def test_an_unreachable_service_is_retryable():
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    api = ScribeApi("http://scribe", "tok", transport=httpx.MockTransport(handler))
    with pytest.raises(ApiError) as caught:
        asyncio.run(api.state("sid"))
    assert caught.value.code == "unreachable" and caught.value.retryable


def test_a_delete_still_erasing_reports_its_pending_steps():
    answers = iter([httpx.Response(202, json={"status": "erasure_pending", "pending": ["flywheel"]}),
                    httpx.Response(204)])
    api = ScribeApi("http://scribe", "tok", transport=httpx.MockTransport(lambda request: next(answers)))
    assert asyncio.run(api.delete("s1")) == ["flywheel"]
    assert asyncio.run(api.delete("s1")) == []
