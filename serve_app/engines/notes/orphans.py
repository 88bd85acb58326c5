"""vLLM's engine-core process outliving a killed Notes replica is found and stopped.

``AsyncLLM`` runs the engine core in a child process that does not watch its parent: when a Notes
replica is killed (``ray.kill``, a crash, ``serve run`` SIGKILLed) the child keeps its model and KV
cache in memory forever.  Every process a Notes replica starts inherits :data:`MARKER` naming the
replica's pid (:func:`mark_children`); a new Notes replica stops (SIGKILL) every process whose
marker names a pid that is gone or is no longer its parent (:func:`reap_orphans`).  Only processes
carrying the marker are touched: other vLLM servers on the machine are left alone.
"""
from __future__ import annotations

import logging
import os
import signal
from pathlib import Path

__all__ = ["MARKER", "mark_children", "reap_orphans"]

log = logging.getLogger("scribe.notes")
MARKER = "SCRIBE_NOTES_PARENT"


def mark_children() -> None:
    """Processes started from now on carry this process's pid as their Notes parent."""
    os.environ[MARKER] = str(os.getpid())


def _marked_parent(pid_dir: Path) -> int | None:
    try:
        environ = (pid_dir / "environ").read_bytes()
    except OSError:  # gone, or not ours to read
        return None
    prefix = MARKER.encode() + b"="
    for item in environ.split(b"\0"):
        if item.startswith(prefix):
            try:
                return int(item[len(prefix):])
            except ValueError:
                return None
    return None


def _parent_of(pid_dir: Path) -> int | None:
    try:
        stat = (pid_dir / "stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])  # the field after the state, past "(comm)"


def reap_orphans(proc: Path = Path("/proc")) -> list[int]:
    """SIGKILL every marked process whose Notes parent is gone; returns their pids."""
    killed = []
    for pid_dir in proc.iterdir():
        if not pid_dir.name.isdigit() or int(pid_dir.name) == os.getpid():
            continue
        parent = _marked_parent(pid_dir)
        if parent is None or parent == os.getpid():
            continue
        if not _is_ancestor(proc, parent, pid_dir):
            try:
                os.kill(int(pid_dir.name), signal.SIGKILL)
                killed.append(int(pid_dir.name))
            except (ProcessLookupError, PermissionError):
                pass
    if killed:
        log.warning("stopped %d engine process(es) left behind by a killed Notes replica", len(killed))
    return killed


def _is_ancestor(proc: Path, ancestor: int, pid_dir: Path) -> bool:
    """True if ``ancestor`` is still an ancestor of the process (a grandchild of a live replica)."""
    pid, seen = _parent_of(pid_dir), 0
    while pid and pid > 1 and seen < 64:
        if pid == ancestor:
            return True
        pid, seen = _parent_of(proc / str(pid)), seen + 1
    return False
