"""The journal never acknowledges a short write, skips a damaged record instead of truncating what follows,
and keeps a bounded number of files open (review H2, H5)."""
from __future__ import annotations

import errno
import os

import pytest

from serve_app.errors import StorageFull
from serve_app.sessions.disk_journal import DiskJournal
from serve_app.sessions.frames import frame, read_frames


def _events(n):
    return [{"id": i, "type": "chunk_received", "data": {"seq": i, "note": "é"}} for i in range(n)]


def test_a_damaged_record_in_the_middle_is_skipped_and_the_rest_loads(tmp_path):
    journal = DiskJournal(tmp_path)
    for event in _events(5):
        journal.append("s1", event)
    path = tmp_path / "sessions" / "s1" / "events.jsonl"
    lines = path.read_bytes().split(b"\n")
    lines[2] = lines[2][:-8] + b"\xff\xfe\xc3" + lines[2][-5:]  # bit rot inside record 2, invalid UTF-8 too
    path.write_bytes(b"\n".join(lines))
    assert [e["id"] for e in DiskJournal(tmp_path).load_events("s1")] == [0, 1, 3, 4]


def test_records_written_before_framing_still_load():
    legacy = b'{"id":0,"type":"session_created","data":{}}\n'
    records, complete, bad = read_frames(legacy + frame({"id": 1, "type": "x", "data": {}}) + b"7 0000")
    assert [r["id"] for r in records] == [0, 1] and bad == 0 and complete < len(legacy) + 100


def test_a_short_write_is_never_acknowledged_and_leaves_no_partial_record(tmp_path, monkeypatch):
    journal = DiskJournal(tmp_path)
    journal.append("s1", _events(1)[0])
    path = tmp_path / "sessions" / "s1" / "events.jsonl"
    size = path.stat().st_size
    real_write, calls = os.write, []

    def disk_fills(fd, data):
        calls.append(len(data))
        if len(calls) == 1:
            return real_write(fd, data[: len(data) // 2])  # half the record fits
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", disk_fills)
    with pytest.raises(StorageFull):
        journal.append("s1", {"id": 1, "type": "chunk_received", "data": {"seq": 1}})
    monkeypatch.setattr(os, "write", real_write)
    assert path.stat().st_size == size  # the half record was cut off again
    journal.append("s1", {"id": 2, "type": "chunk_received", "data": {"seq": 2}})
    assert [e["id"] for e in DiskJournal(tmp_path).load_events("s1")] == [0, 2]


def test_at_most_max_open_journal_files_stay_open(tmp_path):
    journal = DiskJournal(tmp_path, max_open=2)
    for k in range(5):
        journal.append(f"s{k}", {"id": 0, "type": "session_created", "data": {}})
    assert len(journal._fds) == 2
    journal.append("s0", {"id": 1, "type": "x", "data": {}})  # reopened on demand
    assert len(journal._fds) == 2
    assert [e["id"] for e in DiskJournal(tmp_path).load_events("s0")] == [0, 1]


def test_a_new_sessions_directory_and_its_parent_are_fsynced_before_the_first_append_returns(tmp_path, monkeypatch):
    """Review L2: a 201'd session must not lose its journal's directory entry on power loss."""
    import serve_app.sessions.disk_journal as dj

    synced = []
    monkeypatch.setattr(dj, "fsync_path", lambda path: synced.append(str(path)))
    journal = dj.DiskJournal(tmp_path)
    journal.append("s1", {"id": 1, "type": "session_created", "ts": 0.0, "data": {}})
    assert str(tmp_path / "sessions" / "s1") in synced and str(tmp_path / "sessions") in synced
