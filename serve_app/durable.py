"""Durable local writes, shared by the session journal and the flywheel datasets.

``fsync_path`` flushes a file or a directory entry to disk; ``atomic_write`` puts
bytes under a name so that a reader sees either the old file or the whole new one,
and a crash never leaves a partial file: written to a temporary sibling, fsynced,
renamed over the target, and the directory fsynced.
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path

__all__ = ["fsync_path", "atomic_write", "ensure_secret_file", "new_secret"]


def fsync_path(path: str | os.PathLike) -> None:
    """``fsync`` a file or directory by path (for a directory: the entries created or renamed in it)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: str | os.PathLike, data: bytes, mode: int = 0o600) -> None:
    """Write ``data`` to ``path`` atomically and durably (file mode ``mode``); a short write is retried
    until every byte is written, never returned as success."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    fsync_path(path.parent)


def new_secret() -> str:
    """A fresh random secret (256 bits, URL-safe text): a token or a key."""
    import secrets

    return secrets.token_urlsafe(32)


def ensure_secret_file(path: Path) -> Path:
    """Create a 0600 file holding one fresh random secret (a token, a key) if it does not exist."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(new_secret() + "\n")
    return path
