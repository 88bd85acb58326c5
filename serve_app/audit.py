"""An append-only, tamper-evident audit log of what clinicians did with PHI.

One JSON line per action (names revealed, note exported, feedback given, session deleted):
``{seq, ts, actor, action, session, detail, prev, hash}`` where ``session`` is the session's
pseudonym (HMAC; never the id, which is a bearer of access), ``detail`` holds no PHI (a format,
an action, counts) and ``hash`` is SHA-256 over ``prev`` and the record's canonical JSON, so
changing, removing or reordering any record breaks the chain from there on.  Appends are
fsynced and serialised with a file lock, so several ingress replicas can share one log.
``scribe audit verify`` checks the chain; ``scribe audit show`` prints the last records.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from filelock import FileLock

__all__ = ["AuditLog", "AuditCheck", "verify_log", "GENESIS"]

GENESIS = "0" * 64
ACTIONS = ("names_revealed", "exported", "feedback", "deleted")


def _digest(prev: str, body: dict[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev + canonical).encode()).hexdigest()


def _last(path: Path) -> tuple[int, str]:
    """``(seq, hash)`` of the last record, or ``(0, GENESIS)``."""
    if not path.exists() or path.stat().st_size == 0:
        return 0, GENESIS
    with path.open("rb") as fh:
        fh.seek(max(0, path.stat().st_size - 8192))
        line = fh.read().splitlines()[-1]
    record = json.loads(line)
    return int(record["seq"]), record["hash"]


class AuditLog:
    """Appends audit records to ``path``; ``session_id`` maps a session id to its pseudonym."""

    def __init__(self, path: Path, session_id: Callable[[str], str]):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = FileLock(str(self.path) + ".lock")
        self._session_id = session_id

    def append(self, actor: str, action: str, sid: str, /, **detail: Any) -> dict[str, Any]:
        """Write one record durably and return it."""
        if action not in ACTIONS:
            raise ValueError(f"unknown audit action {action!r}")
        with self._lock:
            seq, prev = _last(self.path)
            body = {"seq": seq + 1, "ts": round(time.time(), 3), "actor": actor, "action": action,
                    "session": self._session_id(sid), "detail": detail, "prev": prev}
            record = {**body, "hash": _digest(prev, body)}
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
        return record

    async def record(self, actor: str, action: str, sid: str, /, **detail: Any) -> None:
        """:meth:`append` off the event loop."""
        await asyncio.to_thread(self.append, actor, action, sid, **detail)


@dataclass(frozen=True)
class AuditCheck:
    ok: bool
    records: int
    first_bad: int | None = None
    reason: str = ""


def verify_log(path: Path) -> AuditCheck:
    """Check every record's hash and its link to the previous one, in order."""
    prev, count = GENESIS, 0
    if not Path(path).exists():
        return AuditCheck(True, 0)
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        try:
            record = json.loads(line)
            body = {k: v for k, v in record.items() if k != "hash"}
        except (json.JSONDecodeError, AttributeError):
            return AuditCheck(False, count, number, "not a JSON record")
        if record.get("prev") != prev:
            return AuditCheck(False, count, number, "broken link to the previous record")
        if record.get("seq") != count + 1:
            return AuditCheck(False, count, number, "sequence number out of order")
        if _digest(prev, body) != record.get("hash"):
            return AuditCheck(False, count, number, "record changed after it was written")
        prev, count = record["hash"], count + 1
    return AuditCheck(True, count)
