"""SSE events (ids, resume, end) and durability across a crash of the whole app."""
from __future__ import annotations

import json
import time

import httpx

from bench.harness.data import DEV, librispeech_clips, normalise, wav_chunks


def sse_events(base_url: str, token: str, sid: str, last_event_id: int | None = None, timeout: float = 180):
    """The session's SSE stream as event dicts (``id``, ``event``, ``data``), as they arrive."""
    headers = {"Authorization": f"Bearer {token}"}
    if last_event_id is not None:
        headers["Last-Event-ID"] = str(last_event_id)
    current = {}
    with httpx.stream("GET", f"{base_url}/v1/sessions/{sid}/events", headers=headers, timeout=timeout) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        for line in r.iter_lines():
            if line.startswith("id:"):
                current["id"] = int(line[3:].strip())
            elif line.startswith("event:"):
                current["event"] = line[6:].strip()
            elif line.startswith("data:"):
                current["data"] = json.loads(line[5:].strip())
            elif line.startswith(":"):
                current.setdefault("heartbeat", 0)
            elif line == "" and "id" in current:
                yield current
                current = {}


def read_events(base_url: str, token: str, sid: str, last_event_id: int | None = None,
                stop_after: int | None = None, timeout: float = 180) -> list[dict]:
    events = []
    for event in sse_events(base_url, token, sid, last_event_id, timeout):
        events.append(event)
        if stop_after and len(events) >= stop_after:
            break
    return events


def test_events_stream_resume_and_end(serve_app, alice):
    from tests.integration.conftest import TOKENS

    sid = alice.create_session()
    r = alice.http.post(f"/v1/sessions/{sid}/segments",
                        json={"segments": [{"text": "Good morning, what brings you in?", "role": "doctor"},
                                           {"text": "I have had a cough for a week.", "role": "patient"}]})
    assert r.status_code == 202
    alice.finish(sid)
    first = read_events(serve_app.url, TOKENS["alice"], sid, stop_after=2)
    everything = read_events(serve_app.url, TOKENS["alice"], sid)  # ends by itself after "finished"
    ids = [e["id"] for e in everything]
    assert ids == sorted(ids) and len(set(ids)) == len(ids) and ids[0] == 1
    assert everything[-1]["event"] == "finished"
    assert "session_created" in [e["event"] for e in everything]
    assert all("owner" not in e["data"]["data"] for e in everything)
    resumed = read_events(serve_app.url, TOKENS["alice"], sid, last_event_id=first[-1]["id"])
    assert [e["id"] for e in resumed] == ids[2:]
    segs = [s for e in everything if e["event"] == "batch_processed" for s in e["data"]["data"]["segments"]]
    assert [s["text"] for s in segs] == ["Good morning, what brings you in?", "I have had a cough for a week."]


def test_heartbeats_while_idle(serve_app, alice):
    """With SCRIBE_SSE_PING_S=1 an idle stream still sends comment heartbeats."""
    sid = alice.create_session()
    seen = 0
    headers = {"Authorization": f"Bearer {alice.http.headers['Authorization'].split()[1]}"}
    with httpx.stream("GET", f"{serve_app.url}/v1/sessions/{sid}/events", headers=headers, timeout=30) as r:
        start = time.monotonic()
        for line in r.iter_lines():
            if line.startswith(":"):
                seen += 1
            if seen >= 2 or time.monotonic() - start > 20:
                break
    assert seen >= 2


def test_every_acknowledged_chunk_survives_a_crash_exactly_once(serve_app, alice):
    """Kill the app and the store actor mid-session, redeploy, and finish the session."""
    clip = librispeech_clips()[0]
    chunks = wav_chunks(DEV / clip["wav"], 2.0)
    reference = alice.state(alice.create_session())  # warm path, unused
    sid = alice.create_session()
    for seq in range(3):
        assert alice.put_chunk(sid, seq, chunks[seq]).status_code == 202
    serve_app.kill_everything()
    state = alice.state(sid)
    assert state["chunks"]["received"] == 3
    for seq in range(3, len(chunks)):
        assert alice.put_chunk(sid, seq, chunks[seq]).status_code == 202
    alice.finish(sid)
    state = alice.wait_finished(sid)
    assert state["chunks"]["processed"] == len(chunks) and state["chunks"]["failed"] == []
    words = normalise(alice.transcript(state)).split()
    ref = normalise(clip["reference"]).split()
    # every word of the clip once: no duplicated run of words, and (almost) all reference words
    assert len(words) == len(set(zip(words, words[1:], words[2:]))) + 2
    assert len(set(ref) - set(words)) <= 3
    assert reference["status"] == "recording"
