"""Runs the guardrail checks of each new note version, off the note's path.

The note updater kicks :meth:`NoteChecks.kick` after it commits a draft, so a
draft is visible at once and its warnings follow; the session processor awaits
:meth:`NoteChecks.run` for the final note (a session finishes only once its
final note is checked).  One check per session is in flight at a time; the
store fences commits by note version, so warnings of a superseded note are
dropped.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

__all__ = ["NoteChecks", "GuardrailsClient"]

log = logging.getLogger("scribe.checks")


class GuardrailsClient(Protocol):
    async def check(self, note: dict | None, segments: list[dict]) -> list[dict[str, Any]]: ...


class NoteChecks:
    def __init__(self, store, guardrails: GuardrailsClient):
        self._store, self._guardrails = store, guardrails
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: dict[str, asyncio.Task] = {}

    def kick(self, sid: str) -> None:
        """Check ``sid``'s current note in the background (no-op if already checked)."""
        task = self._tasks.get(sid)
        if task is None or task.done():
            self._tasks[sid] = asyncio.get_running_loop().create_task(self._background(sid))

    async def _background(self, sid: str) -> None:
        try:
            while await self.run(sid):
                pass
        except Exception as exc:  # the scan retries; only the type is logged (no PHI)
            log.warning("note checks failed (%s); will retry", type(exc).__name__)
        finally:
            self._tasks.pop(sid, None)

    async def run(self, sid: str) -> bool:
        """Check the current note of ``sid`` and commit its warnings; False if nothing was due."""
        async with self._locks.setdefault(sid, asyncio.Lock()):
            inputs = await self._store.check_inputs(sid)
            if inputs["checked"] or inputs["note"] is None:
                return False
            warnings = await self._guardrails.check(inputs["note"], inputs["segments"])
            return await self._store.commit_warnings(sid, inputs["note_version"], warnings)

    async def give_up(self, sid: str, reason: str) -> bool:
        """Record that the current note could not be checked (so the session can finish)."""
        inputs = await self._store.check_inputs(sid)
        warning = {"note_item": None, "kind": "checks_failed", "evidence": [],
                   "message": f"The note could not be checked ({reason}); review it in full."}
        return await self._store.commit_warnings(sid, inputs["note_version"], [warning])
