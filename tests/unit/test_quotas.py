"""Per-clinician quotas and the free-disk watermark (issue 15, review H6): one token cannot hold
unbounded sessions or text, and new data is refused before the disk fills."""
from __future__ import annotations

import pytest

from serve_app.errors import PayloadTooLarge, StorageFull, TooManyRequests
from serve_app.sessions.disk_journal import DiskJournal
from serve_app.sessions.spec import StoreSpec
from serve_app.sessions.store import SessionStore


class TightDisk(DiskJournal):
    free = 10**12

    def free_bytes(self) -> int:
        return self.free


def test_unfinished_sessions_are_capped_per_clinician(tmp_path):
    store = SessionStore(DiskJournal(tmp_path), StoreSpec(max_open_sessions=2))
    first = store.api.create_session("a")["session_id"]
    store.api.create_session("a")
    with pytest.raises(TooManyRequests) as exc:
        store.api.create_session("a")
    assert exc.value.code == "session_quota" and exc.value.status_code == 429
    store.api.create_session("b")  # another clinician has their own quota
    store.book.emit(first, "finished", {})  # a finished session no longer counts
    store.api.create_session("a")


def test_uploaded_bytes_are_capped_per_clinician_across_their_unfinished_sessions(tmp_path):
    store = SessionStore(DiskJournal(tmp_path), StoreSpec(max_open_bytes=1000))
    one, two = (store.api.create_session("a")["session_id"] for _ in range(2))
    store.api.put_chunk("a", one, 0, b"x" * 600, "audio/wav", 1.0, 1)
    with pytest.raises(PayloadTooLarge) as exc:
        store.api.put_chunk("a", two, 0, b"y" * 600, "audio/wav", 1.0, 1)  # 1200 bytes over two sessions
    assert exc.value.code == "byte_quota" and exc.value.status_code == 413
    with pytest.raises(PayloadTooLarge):
        store.api.add_segments("a", two, [{"text": "z" * 500}])
    assert store.book.sessions[two].chunks == {} and store.book.sessions[two].batches == {}  # nothing stored
    other = store.api.create_session("b")["session_id"]
    store.api.put_chunk("b", other, 0, b"y" * 600, "audio/wav", 1.0, 1)  # another clinician's own quota
    reloaded = SessionStore(DiskJournal(tmp_path), StoreSpec(max_open_bytes=1000))  # counted from the journal
    with pytest.raises(PayloadTooLarge):
        reloaded.api.put_chunk("a", two, 0, b"y" * 600, "audio/wav", 1.0, 1)
    reloaded.book.emit(one, "finished", {})  # a finished session's uploads no longer count
    reloaded.api.put_chunk("a", two, 0, b"y" * 600, "audio/wav", 1.0, 1)


def test_posted_segments_are_capped_per_session(tmp_path):
    store = SessionStore(DiskJournal(tmp_path), StoreSpec(max_segments=3))
    sid = store.api.create_session("a")["session_id"]
    store.api.add_segments("a", sid, [{"text": "x"}] * 2)
    with pytest.raises(PayloadTooLarge) as exc:
        store.api.add_segments("a", sid, [{"text": "x"}] * 2)
    assert exc.value.code == "session_too_large"
    assert len(store.book.sessions[sid].batches) == 1


def test_below_the_watermark_new_data_is_507_and_nothing_is_stored(tmp_path):
    journal = TightDisk(tmp_path)
    store = SessionStore(journal, StoreSpec(min_free_bytes=100 * 1024 * 1024))
    sid = store.api.create_session("a")["session_id"]
    journal.free = 50 * 1024 * 1024
    for call in (lambda: store.api.create_session("a"),
                 lambda: store.api.put_chunk("a", sid, 0, b"audio", "audio/wav", 1.0, 1),
                 lambda: store.api.add_segments("a", sid, [{"text": "x"}])):
        with pytest.raises(StorageFull) as exc:
            call()
        assert exc.value.code == "low_disk" and exc.value.status_code == 507
    state = store.book.sessions[sid]
    assert not state.chunks and not state.batches and len(store.book.sessions) == 1
    assert not list((tmp_path / "sessions" / sid / "blobs").iterdir())
    journal.free = 10**12
    store.api.put_chunk("a", sid, 0, b"audio", "audio/wav", 1.0, 1)  # space came back: accepted again
