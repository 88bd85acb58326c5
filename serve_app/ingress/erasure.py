"""``DELETE /v1/sessions/{sid}``: erase a session everywhere, and finish what a crash or a fault cut short.

An erasure is recorded durably before anything is removed (``$SCRIBE_DATA_DIR/erasures/<sid>.json``:
the session id, its owner, its dataset pseudonym and the steps done; no PHI), then its steps run:

=================  ==============================================================
``session``        the store erases the journal, audio, raw text and names
``pipeline_cache`` the pipeline drops decoded audio it holds in memory
``flywheel``       spool, datasets and quarantine rows matched by the pseudonym
=================  ==============================================================

The record is removed when every step is done; until then the DELETE answers 202 with the
steps still pending, and :meth:`Eraser.retry_pending` (at start and every few seconds) runs
them again, so an erasure is finished later, never dropped.
"""
from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any, Awaitable, Callable

from serve_app.durable import atomic_write
from serve_app.errors import NotFound

__all__ = ["Eraser", "ErasureLedger", "STEPS"]

log = logging.getLogger("ray.serve")

STEPS = ("session", "pipeline_cache", "flywheel")


class ErasureLedger:
    """Pending erasures, one small JSON file each, written atomically and fsynced."""

    def __init__(self, directory: str | Path):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)

    def _path(self, sid: str) -> Path:
        if not sid or "/" in sid or sid.startswith("."):
            raise ValueError("bad session id")
        return self.dir / f"{sid}.json"

    def get(self, sid: str) -> dict[str, Any] | None:
        """The pending erasure of ``sid``, or None (also for an id no session can have)."""
        if not sid or "/" in sid or sid.startswith("."):
            return None
        path = self._path(sid)
        return json.loads(path.read_text()) if path.exists() else None

    def save(self, entry: dict[str, Any]) -> None:
        atomic_write(self._path(entry["sid"]), json.dumps(entry).encode())

    def done(self, sid: str) -> None:
        self._path(sid).unlink(missing_ok=True)

    def pending(self) -> list[dict[str, Any]]:
        return [json.loads(p.read_text()) for p in sorted(self.dir.glob("*.json"))]


class Eraser:
    """Runs erasures' steps against the store, the pipeline and the flywheel.

    Args:
        ledger: where pending erasures are recorded.
        exists: ``(clinician, sid) -> True`` or 404 (the store's ownership check).
        steps: step name -> ``(clinician, sid, pseudonym) -> awaitable``; a step raising
            :class:`NotFound` has nothing left to erase and counts as done.
        pseudonym: ``sid -> session pseudonym`` (as the flywheel's rows carry it).
    """

    def __init__(self, ledger: ErasureLedger, exists: Callable[[str, str], Awaitable[bool]],
                 steps: dict[str, Callable[[str, str, str], Awaitable[Any]]], pseudonym: Callable[[str], str]):
        self._ledger, self._exists, self._steps, self._pseudonym = ledger, exists, steps, pseudonym

    async def erase(self, clinician: str, sid: str) -> list[str]:
        """Erase ``sid`` for its owner; returns the steps still pending ([] = all done).  404 if the
        session is not the clinician's and no erasure of it by them is pending."""
        entry = self._ledger.get(sid)
        if entry is None:
            await self._exists(clinician, sid)
            entry = {"sid": sid, "clinician": clinician, "session": self._pseudonym(sid),
                     "requested_at": time.time(), "done": [], "attempts": 0}
            self._ledger.save(entry)
        elif entry["clinician"] != clinician:
            raise NotFound("No such session.", code="session_not_found")
        return await self._run(entry)

    async def _run(self, entry: dict[str, Any]) -> list[str]:
        remaining = []
        for step in STEPS:
            if step in entry["done"] or step not in self._steps:
                continue
            try:
                await self._steps[step](entry["clinician"], entry["sid"], entry["session"])
            except NotFound:
                pass
            except Exception as exc:  # only the type: no PHI in logs
                log.warning("erasure step %s failed (%s); it will be retried", step, type(exc).__name__)
                remaining.append(step)
                continue
            entry["done"].append(step)
            self._ledger.save(entry)
        if remaining:
            entry["attempts"] += 1
            entry["pending"] = remaining
            self._ledger.save(entry)
        else:
            self._ledger.done(entry["sid"])
        return remaining

    async def retry_pending(self) -> int:
        """Run every pending erasure again; returns how many are still pending."""
        left = 0
        for entry in self._ledger.pending():
            left += bool(await self._run(entry))
        return left
