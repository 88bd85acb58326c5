"""Planted identifiers of every Safe Harbor class, said in a consultation, reach neither the note model's
prompts nor the journal: the real processor masks with the real PII engine before the note writer runs."""
from __future__ import annotations

import asyncio
import re

import pytest

from bench.harness.fakes.local_store import local_client
from bench.harness.fakes.notes import FakeNoteEngine
from serve_app.config import AsrConfig, NotesConfig, PipelineConfig
from serve_app.engines.notes.writer import NoteWriter, WriterSettings
from serve_app.engines.pii.engine import PiiEngine, mask_segments
from serve_app.pipeline.note_updater import NoteUpdater
from serve_app.pipeline.processor import SessionProcessor
from serve_app.sessions.disk_journal import DiskJournal
from serve_app.sessions.spec import StoreSpec
from serve_app.sessions.store import SessionStore

#: one value per class, in shapes the issue names (written for this test, not from any split)
PLANTED = {
    "NAME": "Wojciech Brzezinski", "PHONE": "+44 161 496 0733", "EMAIL": "w.brz@example.org",
    "STREET_ADDRESS": "14, rue Lamartine", "CITY": "Besançon", "POSTAL_CODE": "25000", "DATE": "17-08-1971",
}
SAID = [
    f"My name is {PLANTED['NAME']} and my chest has been tight for three days.",
    f"You can call me on {PLANTED['PHONE']} or write to {PLANTED['EMAIL']}.",
    f"I live at {PLANTED['STREET_ADDRESS']}, {PLANTED['CITY']} {PLANTED['POSTAL_CODE']}.",
    f"I was born on {PLANTED['DATE']} and I take atorvastatin 20 mg at night.",
]


class RealPii:
    """The PII deployment's contract over the real engine."""

    def __init__(self):
        self.engine = PiiEngine()

    async def mask_segments(self, segments, names):
        return mask_segments(self.engine, segments, names)


@pytest.mark.parametrize("mode", ["fact", "section"])
def test_planted_identifiers_never_reach_the_note_prompts_or_the_journal(tmp_path, mode):
    store = SessionStore(DiskJournal(tmp_path), StoreSpec(finish_grace_s=0))
    engine = FakeNoteEngine()
    updater = NoteUpdater(local_client(store), NoteWriter(engine, settings=WriterSettings(mode=mode)),
                          NotesConfig(debounce_s=0.0, max_delay_s=0.0))
    processor = SessionProcessor(local_client(store), None, RealPii(), AsrConfig(), PipelineConfig(), updater)
    sid = store.api.create_session("a")["session_id"]
    store.api.add_segments("a", sid, [{"text": t, "role": "patient"} for t in SAID])
    store.api.request_finish("a", sid)

    async def run():
        while await processor.step(sid):
            pass
        updater.stop()

    asyncio.run(run())
    state = store.api.get_state("a", sid)
    assert state["status"] == "finished" and state["note"] is not None and engine.requests
    prompts = " ".join(m["content"] for r in engine.requests for m in r["messages"])
    journal = (tmp_path / "sessions" / sid / "events.jsonl").read_text()
    assert "atorvastatin" in prompts + journal  # clinical words still reach the model
    for kind, value in PLANTED.items():
        for token in value.replace(",", " ").split():
            if len(token) > 3 or any(c.isdigit() for c in token):
                word = re.compile(rf"(?<![\w.]){re.escape(token)}(?![\w])")  # not inside a timestamp
                assert not word.search(prompts), (kind, token)
                assert not word.search(journal), (kind, token)
