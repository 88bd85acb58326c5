"""PHI at rest is sealed (AES-GCM, bound to its place) and keys rotate without losing data."""
from __future__ import annotations

import os

import pytest

from serve_app.sealing import MAGIC, Sealer, SealError, ensure_key_file, rotate_key_file
from serve_app.sessions.disk_journal import DiskJournal

OLD, NEW = "o" * 40, "n" * 40


def test_seal_round_trip_and_the_place_is_bound():
    sealer = Sealer([NEW])
    blob = sealer.seal(b"Margaret Thompson", "s1/names.json")
    assert blob.startswith(MAGIC) and b"Margaret" not in blob
    assert sealer.open(blob, "s1/names.json") == b"Margaret Thompson"
    with pytest.raises(SealError):
        sealer.open(blob, "s2/names.json")  # moved to another session
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(SealError):
        sealer.open(tampered, "s1/names.json")


def test_rotation_keeps_old_files_readable_until_resealed(tmp_path):
    old_journal = DiskJournal(tmp_path, Sealer([OLD]))
    old_journal.append("s1", {"type": "session_created"})
    old_journal.save_names("s1", {"[PERSON_1]": "Margaret Thompson"})
    old_journal.put_blob("s1", "000000.wav", b"RIFF-audio-bytes")
    rotated = DiskJournal(tmp_path, Sealer([NEW, OLD]))
    assert rotated.load_names("s1") == {"[PERSON_1]": "Margaret Thompson"}
    assert rotated.reseal() == 2
    assert rotated.reseal() == 0
    new_only = DiskJournal(tmp_path, Sealer([NEW]))
    assert new_only.get_blob("s1", "000000.wav") == b"RIFF-audio-bytes"
    with pytest.raises(SealError):
        DiskJournal(tmp_path, Sealer([OLD])).load_names("s1")


def test_files_at_rest_hold_no_plaintext_phi(tmp_path):
    journal = DiskJournal(tmp_path, Sealer([NEW]))
    journal.append("s1", {"type": "session_created"})
    journal.save_names("s1", {"[PERSON_1]": "Margaret Thompson", "[PHONE_1]": "0161 496 0733"})
    journal.put_blob("s1", "text-0.json", b'{"text": "Call Margaret Thompson on 0161 496 0733"}')
    for path in (tmp_path / "sessions" / "s1").rglob("*"):
        if path.is_file():
            raw = path.read_bytes()
            assert b"Margaret" not in raw and b"0161 496" not in raw, path


def test_plaintext_written_before_encryption_is_still_read(tmp_path):
    plain = DiskJournal(tmp_path)
    plain.append("s1", {"type": "session_created"})
    plain.save_names("s1", {"[PERSON_1]": "Ada"})
    assert DiskJournal(tmp_path, Sealer([NEW])).load_names("s1") == {"[PERSON_1]": "Ada"}


def test_key_file_is_private_and_rotation_puts_the_new_key_first(tmp_path):
    path = ensure_key_file(tmp_path / "keys" / "data-keys")
    assert os.stat(path).st_mode & 0o777 == 0o600
    first = path.read_text().split()
    rotate_key_file(path)
    keys = path.read_text().split()
    assert len(keys) == 2 and keys[1] == first[0] and os.stat(path).st_mode & 0o777 == 0o600


def test_a_delete_cut_after_its_rename_is_finished_when_the_journal_opens(tmp_path):
    journal = DiskJournal(tmp_path, Sealer([NEW]))
    journal.append("s1", {"type": "x"})
    os.replace(tmp_path / "sessions" / "s1", tmp_path / "sessions" / ".deleted-s1-abc")  # killed before rmtree
    DiskJournal(tmp_path, Sealer([NEW]))
    assert list((tmp_path / "sessions").iterdir()) == []


def test_a_delete_whose_files_cannot_be_removed_raises_and_a_retry_finishes_it(tmp_path, monkeypatch):
    import shutil

    journal = DiskJournal(tmp_path, Sealer([NEW]))
    journal.append("s1", {"type": "x"})
    real = shutil.rmtree
    monkeypatch.setattr(shutil, "rmtree", lambda path, *a, **k: (_ for _ in ()).throw(PermissionError("busy")))
    with pytest.raises(PermissionError):
        journal.delete("s1")  # never a silent success: the erasure stays pending
    monkeypatch.setattr(shutil, "rmtree", real)
    journal.delete("s1")
    assert list((tmp_path / "sessions").iterdir()) == []
