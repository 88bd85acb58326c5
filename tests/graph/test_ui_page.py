"""The clinicians' page is served by the same app at /ui/, exposes no API of its own, and its
server side follows a session through the public API exactly as another client would."""
from __future__ import annotations

import asyncio

import httpx
import pytest

from bench.harness.serve import TOKENS
from serve_app.ui.api import ApiError, ScribeApi
from serve_app.ui.view import SessionView

pytestmark = pytest.mark.graph


def test_the_page_is_served_beside_the_api(serve_app):
    page = httpx.get(f"{serve_app.url}/ui/", timeout=30)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    config = httpx.get(f"{serve_app.url}/ui/config", timeout=30).json()
    assert config["title"] == "Clinical scribe"
    for token in TOKENS.values():
        assert token not in page.text and token not in str(config)
    # every event handler is private: the page is not a second, unauthenticated API
    info = httpx.get(f"{serve_app.url}/ui/gradio_api/info", timeout=30).json()
    assert info.get("named_endpoints") == {} and info.get("unnamed_endpoints") == {}
    # and the API itself still needs a token
    assert httpx.get(f"{serve_app.url}/v1/sessions", timeout=30).status_code == 401


def test_the_page_client_follows_a_session_from_its_events(serve_app):
    """What the page's follower does: snapshot, then events from ``last_event_id``, folded."""
    api = ScribeApi(serve_app.url, TOKENS["alice"])

    async def run():
        sid = await api.create_session()
        view = SessionView.from_state(await api.state(sid))
        await api.post_segments(sid, [{"text": "I have had a cough for two weeks.", "role": "patient"},
                                      {"text": "Any fever?", "role": "doctor"}])
        await api.finish(sid)
        async for event in api.events(sid, after=view.last_event_id, retry_s=0.2):
            view.apply(event)
        state = await api.state(sid)
        return view, state

    view, state = asyncio.run(run())
    assert view.status == "finished" == state["status"]
    assert [s["id"] for s in view.segments.values()] == [s["id"] for s in state["segments"]]
    assert view.note == state["note"] and view.note_version == state["note_version"]
    assert view.last_event_id == state["last_event_id"]


def test_the_page_client_gets_typed_errors_for_another_clinicians_session(serve_app, alice):
    sid = alice.create_session()
    with pytest.raises(ApiError) as caught:
        asyncio.run(ScribeApi(serve_app.url, TOKENS["bob"]).state(sid))
    assert caught.value.status == 404 and caught.value.code == "session_not_found"
