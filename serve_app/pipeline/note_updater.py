"""Keeps each session's note up to date with its transcript.

While a session records, every commit of new segments (or a role correction)
*kicks* the updater; it waits until the transcript has been quiet for
``debounce_s`` (but no longer than ``max_delay_s`` after the first change),
then writes a draft from the current input revision and commits it as the next
``note_version``.  On ``finish`` the session processor asks for the final note
(:meth:`NoteUpdater.final`); a role corrected after the session finished gets
a new final note the same way a draft is written.  A per-session lock means at most one generation
is ever in flight for a session; different sessions generate concurrently so
the engine batches them.  Commits are fenced by the store, so a stale or
repeated generation changes nothing.
"""
from __future__ import annotations

import asyncio
import logging
import time

from serve_app.clients import NotesClient
from serve_app.config import NotesConfig
from serve_app.engines.guardrails.injection import is_injection
from serve_app.pipeline.note_checks import NoteChecks
from serve_app.pipeline.tasks import PerSessionTasks, SessionLocks
from serve_app.sessions.client import StoreClient

__all__ = ["NoteUpdater"]

log = logging.getLogger("scribe.notes")


class NoteUpdater:
    """Debounced drafts and the final note of each session (see the module doc).

    Args:
        store: the session store client.
        notes: the Notes deployment's client (or a fake with ``write``).
        config: the ``notes`` config (debounce and maximum delay).
        clock: monotonic seconds (injectable for tests).
        checks: kicked after each committed note, or None when notes are not checked.
    """

    def __init__(self, store: StoreClient, notes: NotesClient, config: NotesConfig, clock=time.monotonic,
                 checks: NoteChecks | None = None):
        self._store, self._notes, self._config = store, notes, config
        self._checks = checks
        self._clock = clock
        self._locks = SessionLocks()
        self._drafts = PerSessionTasks(self._draft, "note draft", log)
        self._first_change: dict[str, float] = {}
        self._last_change: dict[str, float] = {}

    def kick(self, sid: str) -> None:
        """The transcript of ``sid`` may have changed: schedule a (debounced) draft."""
        now = self._clock()
        self._first_change.setdefault(sid, now)
        self._last_change[sid] = now
        self._drafts.kick(sid)

    @property
    def drafting(self) -> int:
        """Sessions with a draft task running now."""
        return len(self._drafts)

    def stop(self) -> None:
        """Cancel the running drafts (replica shutdown, tests)."""
        self._drafts.cancel()

    async def _debounce(self, sid: str) -> None:
        """Wait for ``debounce_s`` of quiet (at most ``max_delay_s``); while more than ``busy_sessions``
        sessions are changing, wait ``busy_delay_s`` after the first change instead."""
        cfg = self._config
        while True:
            now = self._clock()
            quiet = now - self._last_change.get(sid, now)
            waited = now - self._first_change.get(sid, now)
            if len(self._first_change) > cfg.busy_sessions:
                if waited >= cfg.busy_delay_s:
                    return
                await asyncio.sleep(max(0.05, min(1.0, cfg.busy_delay_s - waited)))
                continue
            if quiet >= cfg.debounce_s or waited >= cfg.max_delay_s:
                return
            await asyncio.sleep(max(0.05, min(cfg.debounce_s - quiet, cfg.max_delay_s - waited)))

    async def _draft(self, sid: str) -> bool:
        """One debounced draft; True if the transcript changed again meanwhile."""
        if sid not in self._first_change:
            self._last_change.pop(sid, None)
            return False
        try:
            await self._debounce(sid)
            self._first_change.pop(sid, None)
            await self._update(sid, final=False)
        except Exception:  # the next kick or scan retries
            self._last_change.pop(sid, None)
            raise
        return sid in self._first_change

    async def _update(self, sid: str, final: bool, basis: int | None = None) -> bool:
        async with self._locks.hold(sid):
            inputs = await self._store.notes.note_inputs(sid)
            if inputs["finished"]:  # only a correction after finish brings a finished session here
                if inputs["basis"] <= inputs["note_basis"]:
                    return False
                final = True
            elif final:
                if basis is not None and inputs["basis"] != basis:
                    return False  # the input changed again; the processor will ask anew
                if inputs["note_final"] and inputs["note_basis"] == inputs["basis"]:
                    return False  # already written (a repeated request)
            elif inputs["finish_requested"] or inputs["basis"] <= inputs["note_basis"]:
                return False
            # text that tries to instruct the model never reaches it (the guardrails warn about it)
            segments = [seg for seg in inputs["segments"] if not is_injection(seg["text"])]
            result = await self._notes.write(segments)
            committed = await self._store.notes.commit_note(sid, inputs["basis"], result["note"], final,
                                                            result["stats"])
            if committed and self._checks is not None:
                self._checks.kick(sid)  # off the note's path; the processor also awaits the final note's checks
            return committed

    async def final(self, sid: str, basis: int) -> bool:
        """Write and commit the finished note from input revision ``basis``."""
        return await self._update(sid, final=True, basis=basis)
