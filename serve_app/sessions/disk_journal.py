"""Durable session journal on local disk (the embedded default).

Layout under the data directory (mode 0700; files 0600)::

    sessions/<sid>/events.jsonl   one framed event a line (length, CRC-32, JSON), fsynced per append
    sessions/<sid>/blobs/<name>   chunk audio and raw text batches (PHI, sealed)
    sessions/<sid>/names.json     placeholder -> real value (PHI, sealed)
    sessions/.catalog             framed log of catalog entries (:mod:`.catalog`; no PHI), compacted on load

With a :class:`~serve_app.sealing.Sealer` the PHI files are encrypted (AES-GCM, bound
to their place); events hold masked text only and stay readable for recovery.

An append returns only after ``fsync``; a blob is written to a temporary file,
fsynced and renamed, and its directory fsynced, before the event that refers to
it is appended.  A torn last line (a crash mid-append) is cut off on load; a damaged
record elsewhere is skipped and reported, never a truncation of what follows
(:mod:`.frames`).  A short write or a full disk is never acknowledged: the partial
record is cut off again and :class:`~serve_app.errors.StorageFull` (507) raised.
At most ``max_open`` journal files stay open (least recently used closed).
"""
from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

from serve_app.durable import atomic_write, fsync_path
from serve_app.errors import StorageFull
from serve_app.sealing import Sealer
from serve_app.sessions.frames import frame, read_frames

__all__ = ["DiskJournal"]

log = logging.getLogger("scribe.journal")
_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


@contextlib.contextmanager
def _storage_errors():
    """A full disk or quota becomes :class:`StorageFull` (507), not a 500."""
    try:
        yield
    except OSError as exc:
        if exc.errno in _FULL:
            raise StorageFull("The server's storage is full; nothing was stored. Try again later.") from None
        raise


class DiskJournal:
    """Append-only per-session event logs plus blobs, all fsynced."""

    def __init__(self, root: str | Path, sealer: Sealer | None = None, max_open: int = 128):
        self.root = Path(root) / "sessions"
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._fds: dict[str, int] = {}  # insertion order = least recently used first
        self._max_open = max_open
        self._sealer = sealer
        self._catalog_fd: int | None = None
        for trash in self.root.glob(".deleted-*"):  # a delete cut short after its rename: finish it
            shutil.rmtree(trash, ignore_errors=True)

    def _seal(self, data: bytes, place: str) -> bytes:
        return self._sealer.seal(data, place) if self._sealer else data

    def _open(self, data: bytes, place: str) -> bytes:
        return self._sealer.open(data, place) if self._sealer else data

    def _dir(self, sid: str) -> Path:
        if not sid or "/" in sid or sid.startswith("."):
            raise ValueError("bad session id")
        return self.root / sid

    def free_bytes(self) -> int:
        """Free space on the data disk (for the store's watermark)."""
        return shutil.disk_usage(self.root).free

    def session_ids(self) -> list[str]:
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and not p.name.startswith("."))

    # -- the catalog (one small entry per session) -------------------------------------------
    def load_catalog(self) -> dict[str, dict[str, Any]] | None:
        """Every session's entry; None if this journal has never had a catalog (older data: the
        store rebuilds it once from the events).  A log with many superseded records is compacted."""
        path = self.root / ".catalog"
        if not path.exists():
            return None
        raw = path.read_bytes()
        records, complete, bad = read_frames(raw)
        if complete < len(raw):  # a torn last record (never acknowledged): cut it before appending more
            os.truncate(path, complete)
        if bad:
            log.warning("journal: %d damaged catalog record(s) skipped (repaired from the events)", bad)
        entries: dict[str, dict[str, Any]] = {}
        for record in records:
            if record.get("entry") is None:
                entries.pop(record["sid"], None)
            else:
                entries[record["sid"]] = record["entry"]
        if len(records) > 2 * len(entries) + 256:
            self.write_catalog(entries)
        return entries

    def write_catalog(self, entries: dict[str, dict[str, Any]]) -> None:
        """Replace the catalog with ``entries`` (atomically)."""
        if self._catalog_fd is not None:
            os.close(self._catalog_fd)
            self._catalog_fd = None
        with _storage_errors():
            atomic_write(self.root / ".catalog", b"".join(frame({"sid": s, "entry": e}) for s, e in entries.items()))

    def put_entry(self, sid: str, entry: dict[str, Any] | None) -> None:
        """Set (or with None, drop) one session's entry, durably."""
        if self._catalog_fd is None:
            self._catalog_fd = os.open(self.root / ".catalog", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._append(self._catalog_fd, frame({"sid": sid, "entry": entry}))

    def load_events(self, sid: str) -> list[dict[str, Any]]:
        """Events in order (:mod:`.frames`): a bad record is skipped and reported, a torn final
        line (a write a crash cut, never acknowledged) is truncated away."""
        path = self._dir(sid) / "events.jsonl"
        if not path.exists():
            return []
        raw = path.read_bytes()
        events, complete, bad = read_frames(raw)
        if bad:
            log.warning("journal: %d damaged record(s) skipped in one session", bad)
        if complete < len(raw):
            with open(path, "r+b") as f:
                f.truncate(complete)
                os.fsync(f.fileno())
        return events

    def _fd(self, sid: str) -> int:
        """The session's open journal file; at most ``max_open`` stay open (least recently used closed)."""
        fd = self._fds.pop(sid, None)
        if fd is None:
            directory = self._dir(sid)
            fresh = not directory.exists()
            (directory / "blobs").mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(directory / "events.jsonl", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            if fresh:  # the new entries (events.jsonl, blobs/) and the session dir itself survive power loss
                fsync_path(directory)
                fsync_path(self.root)
        self._fds[sid] = fd
        while len(self._fds) > self._max_open:
            os.close(self._fds.pop(next(iter(self._fds))))
        return fd

    def append(self, sid: str, event: dict[str, Any]) -> None:
        """Append one framed event and fsync before returning.  A short write or a full disk is never
        acknowledged: the partial record is cut off again and :class:`StorageFull` raised."""
        with _storage_errors():
            self._append(self._fd(sid), frame(event))

    @staticmethod
    def _append(fd: int, record: bytes) -> None:
        with _storage_errors():
            start, done = os.fstat(fd).st_size, 0
            try:
                while done < len(record):
                    written = os.write(fd, record[done:])
                    if written <= 0:
                        raise OSError(errno.ENOSPC, "short write")
                    done += written
                os.fsync(fd)
            except OSError:
                os.ftruncate(fd, start)
                raise

    def put_blob(self, sid: str, name: str, data: bytes) -> None:
        directory = self._dir(sid) / "blobs"
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        with _storage_errors():
            atomic_write(directory / name, self._seal(data, f"{sid}/blobs/{name}"))

    def get_blob(self, sid: str, name: str) -> bytes:
        return self._open((self._dir(sid) / "blobs" / name).read_bytes(), f"{sid}/blobs/{name}")

    def load_names(self, sid: str) -> dict[str, str]:
        path = self._dir(sid) / "names.json"
        return json.loads(self._open(path.read_bytes(), f"{sid}/names.json")) if path.exists() else {}

    def save_names(self, sid: str, names: dict[str, str]) -> None:
        data = json.dumps(names, ensure_ascii=False).encode()
        with _storage_errors():
            atomic_write(self._dir(sid) / "names.json", self._seal(data, f"{sid}/names.json"))

    def delete_blobs(self, sid: str, prefixes: tuple[str, ...]) -> int:
        """Delete the session's blobs whose names start with ``prefixes`` (retention); returns the count."""
        directory = self._dir(sid) / "blobs"
        doomed = [p for p in directory.glob("*") if p.is_file() and p.name.startswith(prefixes)] \
            if directory.exists() else []
        for path in doomed:
            path.unlink(missing_ok=True)
        if doomed:
            fsync_path(directory)
        return len(doomed)

    def rewrite_events(self, sid: str, events: list[dict[str, Any]]) -> None:
        """Replace the session's event log atomically (retention removing fields from old events)."""
        fd = self._fds.pop(sid, None)
        if fd is not None:
            os.close(fd)
        with _storage_errors():
            atomic_write(self._dir(sid) / "events.jsonl", b"".join(frame(e) for e in events))

    def reseal(self) -> int:
        """Re-seal every PHI file not sealed with the newest key (after a rotation); returns the count."""
        if self._sealer is None:
            return 0
        done = 0
        for sid in self.session_ids():
            directory = self._dir(sid)
            files = [(directory / "names.json", f"{sid}/names.json")] + \
                [(p, f"{sid}/blobs/{p.name}") for p in sorted((directory / "blobs").glob("*")) if p.is_file()]
            for path, place in files:
                if path.exists() and not self._sealer.is_current(raw := path.read_bytes()):
                    atomic_write(path, self._sealer.seal(self._sealer.open(raw, place), place))
                    done += 1
        return done

    def delete(self, sid: str) -> None:
        """Erase a session (events, audio, names); the rename makes it vanish at once.  Raises if a
        file could not be removed (the caller reports the erasure pending and calls again)."""
        fd = self._fds.pop(sid, None)
        if fd is not None:
            os.close(fd)
        directory = self._dir(sid)
        if directory.exists():
            os.replace(directory, self.root / f".deleted-{sid}-{uuid.uuid4().hex}")
            fsync_path(self.root)
        for trash in self.root.glob(f".deleted-{sid}-*"):  # this delete's, or one a failure left behind
            shutil.rmtree(trash)

    def close(self) -> None:
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()
        if self._catalog_fd is not None:
            os.close(self._catalog_fd)
            self._catalog_fd = None
