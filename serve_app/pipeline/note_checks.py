"""Runs the guardrail checks of each new note version, off the note's path.

The note updater kicks :meth:`NoteChecks.kick` after it commits a draft, so a
draft is visible at once and its warnings follow; the session processor awaits
:meth:`NoteChecks.run` for the final note (a session finishes only once its
final note is checked).  One check per session is in flight at a time; the
store fences commits by note version, so warnings of a superseded note are
dropped.
"""
from __future__ import annotations

import logging

from serve_app.clients import GuardrailsClient
from serve_app.pipeline.tasks import PerSessionTasks, SessionLocks
from serve_app.sessions.client import StoreClient

__all__ = ["NoteChecks"]

log = logging.getLogger("scribe.checks")


class NoteChecks:
    """Guardrail checks of each session's current note (see the module doc)."""

    def __init__(self, store: StoreClient, guardrails: GuardrailsClient):
        self._store, self._guardrails = store, guardrails
        self._locks = SessionLocks()
        self._background = PerSessionTasks(self.run, "note checks", log)

    def kick(self, sid: str) -> None:
        """Check ``sid``'s current note in the background (no-op if already checked)."""
        self._background.kick(sid)

    async def run(self, sid: str) -> bool:
        """Check the current note of ``sid`` and commit its warnings; False if nothing was due."""
        async with self._locks.hold(sid):
            inputs = await self._store.notes.check_inputs(sid)
            if inputs["checked"] or inputs["note"] is None:
                return False
            warnings = await self._guardrails.check(inputs["note"], inputs["segments"])
            return await self._store.notes.commit_warnings(sid, inputs["note_version"], warnings)

    async def give_up(self, sid: str, reason: str) -> bool:
        """Record that the current note could not be checked (so the session can finish)."""
        inputs = await self._store.notes.check_inputs(sid)
        warning = {"note_item": None, "kind": "checks_failed", "evidence": [],
                   "message": f"The note could not be checked ({reason}); review it in full."}
        return await self._store.notes.commit_warnings(sid, inputs["note_version"], [warning])
