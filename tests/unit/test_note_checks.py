"""Guardrail checks off the note's path (fake guardrails, real store)."""
from __future__ import annotations

import asyncio

from bench.harness.fakes.local_store import RecordingStore
from serve_app.config import PipelineConfig
from serve_app.pipeline.note_checks import NoteChecks
from serve_app.pipeline.processor import SessionProcessor
from serve_app.sessions.disk_journal import DiskJournal
from serve_app.sessions.spec import StoreSpec
from serve_app.sessions.store import SessionStore

NOTE = {"subjective": [{"id": "n0", "text": "x", "citations": ["s0"]}], "objective": [], "assessment": [],
        "plan": []}


class FakeGuardrails:
    def __init__(self, fail: bool = False):
        self.fail, self.calls = fail, 0

    async def check(self, note, segments):
        self.calls += 1
        if self.fail:
            raise RuntimeError("guardrails replica down")
        return [{"note_item": "n0", "kind": "unsupported", "message": "m", "evidence": [segments[0]["id"]]}]


def _session(tmp_path):
    store = SessionStore(DiskJournal(tmp_path), StoreSpec(finish_grace_s=0, checks=True))
    sid = store.api.create_session("a")["session_id"]
    store.api.add_segments("a", sid, [{"text": "hello"}])
    store.work.commit_batch(sid, 0, [{"text": "hello", "role": "doctor"}], None)
    return store, sid


def test_a_draft_is_checked_in_the_background(tmp_path):
    store, sid = _session(tmp_path)
    store.notes.commit_note(sid, 1, NOTE, final=False)
    guard = FakeGuardrails()
    checks = NoteChecks(RecordingStore(store), guard)

    async def run():
        checks.kick(sid)
        checks.kick(sid)  # a second kick while one runs starts nothing new
        await asyncio.sleep(0.05)

    asyncio.run(run())
    assert guard.calls == 1 and store.api.get_state("a", sid)["warnings"][0]["evidence"] == ["s0"]


def test_final_checks_that_keep_failing_do_not_block_finish(tmp_path):
    store, sid = _session(tmp_path)
    store.api.request_finish("a", sid)
    store.notes.commit_note(sid, 1, NOTE, final=True)
    guard = FakeGuardrails(fail=True)
    processor = SessionProcessor(RecordingStore(store), None, None, None, PipelineConfig(max_attempts=2),
                                 checks=NoteChecks(RecordingStore(store), guard))

    async def run():
        for _ in range(5):
            try:
                if not await processor.step(sid):
                    break
            except RuntimeError:
                pass

    asyncio.run(run())
    state = store.api.get_state("a", sid)
    assert state["status"] == "finished" and guard.calls == 2
    assert [w["kind"] for w in state["warnings"]] == ["checks_failed"]
