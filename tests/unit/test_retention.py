"""Retention: raw audio and text go at finish, voice features after their window, whole sessions after
``session_days``; the quarantine is purged after its review window (no Ray)."""
from __future__ import annotations

import os

from flywheel.phi_scan import PhiScanner
from flywheel.records import FlywheelRules
from flywheel.writer import FlywheelWriter, quarantine_root_for
from serve_app.sessions.disk_journal import DiskJournal
from serve_app.sessions.spec import StoreSpec
from serve_app.sessions.store import SessionStore
from tests.unit.test_erasure import _fb
from tests.unit.test_session_store import Clock, process, put

DAY = 86400.0


def _finished(store, voice=True):
    sid = store.api.create_session("a")["session_id"]
    put(store, sid, 0)
    item = store.work.next_work(sid)
    segs = [{"text": "c0", "start": 0.0, "end": 1.0, **({"_voice": [[0.1, 0.2]]} if voice else {})}]
    store.work.commit_chunk(sid, item.seq, item.offset, item.offset + 2.0, segs, None)
    store.api.add_segments("a", sid, [{"text": "typed by hand", "role": "doctor"}])
    store.api.request_finish("a", sid)
    process(store, sid)
    assert store.api.get_state("a", sid)["status"] == "finished"
    return sid


def test_raw_files_go_at_finish_voice_after_its_window_and_the_session_after_its_days(tmp_path):
    clock = Clock()
    store = SessionStore(DiskJournal(tmp_path), StoreSpec(finish_grace_s=0, notes=False), clock=clock)
    sid = _finished(store)
    live = store.api.create_session("a")["session_id"]
    put(store, live, 0)  # a session still recording keeps everything
    blobs = tmp_path / "sessions" / sid / "blobs"
    events = tmp_path / "sessions" / sid / "events.jsonl"
    assert sorted(os.listdir(blobs)) == ["batch-00000000.json", "chunk-00000000"] and b"_voice" in events.read_bytes()

    counts = store.retention.sweep(keep_audio=False, session_days=30, voice_features_days=1)
    assert counts == {"sessions_erased": 0, "raw_files_deleted": 2, "sessions_voice_removed": 0}
    assert os.listdir(blobs) == [] and os.listdir(tmp_path / "sessions" / live / "blobs") == ["chunk-00000000"]
    assert b"_voice" in events.read_bytes()

    clock.t += 1.5 * DAY
    assert store.retention.sweep(False, 30, 1)["sessions_voice_removed"] == 1
    assert b"_voice" not in events.read_bytes()
    reloaded = SessionStore(DiskJournal(tmp_path), StoreSpec(finish_grace_s=0, notes=False), clock=clock)
    assert reloaded.api.get_state("a", sid)["segments"][0]["text"] == "c0"  # the journal still replays

    clock.t += 30 * DAY
    assert store.retention.sweep(False, 30, 1)["sessions_erased"] == 1
    assert not (tmp_path / "sessions" / sid).exists() and (tmp_path / "sessions" / live).exists()


def test_keep_audio_keeps_raw_files(tmp_path):
    store = SessionStore(DiskJournal(tmp_path), StoreSpec(finish_grace_s=0, notes=False), clock=Clock())
    sid = _finished(store, voice=False)
    assert store.retention.sweep(True, 30, 0)["raw_files_deleted"] == 0
    assert len(os.listdir(tmp_path / "sessions" / sid / "blobs")) == 2


def test_quarantine_partitions_older_than_the_review_window_are_purged(tmp_path):
    import re

    w = FlywheelWriter(str(tmp_path / "fw"), FlywheelRules(),
                       PhiScanner(lambda t: [(m.start(), m.end(), "PERSON") for m in re.finditer("John Smith", t)]))
    w.submit(_fb("q1", "s", "Call John Smith."))  # received 2026-09-20 (t=1_790_000_000)
    w.publish()
    qroot = quarantine_root_for(str(tmp_path / "fw"))
    assert w.quarantine.files("quarantine")
    assert w.purge_quarantine(days=30, now=1_790_000_000.0 + 10 * DAY) == 0
    assert w.purge_quarantine(days=30, now=1_790_000_000.0 + 31 * DAY) == 1
    assert w.quarantine.files("quarantine") == [] and os.path.isdir(qroot)
