"""State reads in the deployed app come from the ingress's watched snapshots: never older than a write
the client was answered, a change the pipeline made, or an event the client was sent."""
from __future__ import annotations

import time

from tests.integration.test_events_and_restart import sse_events

LINES = [{"text": "Good morning, what brings you in?", "role": "doctor"},
         {"text": "I have had a cough for a week.", "role": "patient"}]


def _events_until(url: str, token: str, sid: str, kind: str) -> list[dict]:
    """The session's SSE events up to and including the first of ``kind``."""
    events = []
    for event in sse_events(url, token, sid, timeout=120):
        events.append(event)
        if event["event"] == kind:
            return events
    raise AssertionError(f"the stream ended without {kind}")


def _state(alice, sid) -> dict:
    r = alice.http.get(f"/v1/sessions/{sid}")
    assert r.status_code == 200
    return r.json()


def test_reads_follow_own_writes_pipeline_changes_and_streamed_events(serve_app, alice):
    from tests.integration.conftest import TOKENS

    sid = alice.create_session()
    primed = [_state(alice, sid) for _ in range(3)]  # the second and third come from the snapshot
    assert primed[0] == primed[1] == primed[2]
    assert alice.http.post(f"/v1/sessions/{sid}/segments", json={"segments": LINES}).status_code == 202
    assert _state(alice, sid)["last_event_id"] > primed[0]["last_event_id"]  # own write, read at once

    events = _events_until(serve_app.url, TOKENS["alice"], sid, "batch_processed")
    state = _state(alice, sid)  # the pipeline's change, and nothing older than the event just streamed
    assert state["last_event_id"] >= events[-1]["id"]
    assert [s["text"] for s in state["segments"]] == [line["text"] for line in LINES]

    first = state["segments"][0]["id"]
    fixed = alice.http.patch(f"/v1/sessions/{sid}/segments/{first}", json={"role": "patient"})
    assert fixed.status_code == 200
    assert _state(alice, sid)["segments"][0]["role"] == "patient"  # a correction, read at once

    alice.finish(sid)
    deadline = time.monotonic() + 120
    while _state(alice, sid)["status"] != "finished":  # a finished session's snapshot is watched too
        assert time.monotonic() < deadline, "the session never finished"
        time.sleep(0.2)
    assert alice.http.delete(f"/v1/sessions/{sid}").status_code in (202, 204)
    gone = alice.http.get(f"/v1/sessions/{sid}")
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "session_not_found"
