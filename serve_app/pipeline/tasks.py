"""The one per-session background-task helper, and the one retry-then-give-up rule.

:class:`PerSessionTasks` keeps at most one task per session alive and remembers a
kick that arrives while it runs (the task looks again before it ends); finished
sessions leave nothing behind (no lock or task dict grows with the number of
sessions ever seen).  :class:`SessionLocks` gives one lock per session that is
dropped once nobody holds or waits for it.  :class:`Attempts` counts a step's failures and gives up after
``max_attempts`` so a session can finish without it.
"""
from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from typing import AsyncIterator, Awaitable, Callable, Hashable

from serve_app.log_context import enter_session

__all__ = ["PerSessionTasks", "Attempts", "SessionLocks"]


class PerSessionTasks:
    """Runs ``work(sid)`` in the background, at most once at a time per session.

    ``work`` returns True while it made progress; the task calls it again until it
    returns False and no kick arrived meanwhile.  An exception ends the task (only
    its type is logged: no PHI); the next kick or the periodic scan starts it again.
    """

    def __init__(self, work: Callable[[str], Awaitable[bool]], what: str, log: logging.Logger):
        self._work, self._what, self._log = work, what, log
        self._tasks: dict[str, asyncio.Task] = {}
        self._again: set[str] = set()

    def kick(self, sid: str) -> None:
        """Make sure a task is working on ``sid`` (start one, or ask the running one to look again)."""
        task = self._tasks.get(sid)
        if task is not None and not task.done():
            self._again.add(sid)
            return
        self._tasks[sid] = asyncio.get_running_loop().create_task(self._run(sid))

    def cancel(self) -> None:
        """Cancel every running task (replica shutdown, tests)."""
        for task in list(self._tasks.values()):
            task.cancel()

    def __len__(self) -> int:
        return len(self._tasks)

    async def _run(self, sid: str) -> None:
        enter_session(sid)  # this task's log records are about sid (its pseudonym)
        try:
            while True:
                self._again.discard(sid)
                if not await self._work(sid) and sid not in self._again:
                    return
        except Exception as exc:
            self._log.warning("%s for a session stopped (%s); will retry", self._what, type(exc).__name__)
        finally:
            self._tasks.pop(sid, None)
            self._again.discard(sid)


class Attempts:
    """Failure counts per step key; a step is given up after ``max_attempts`` failures of its own
    (failures ``transient(exc)`` calls infrastructure are retried without counting)."""

    def __init__(self, max_attempts: int, log: logging.Logger,
                 transient: Callable[[BaseException], bool] = lambda exc: False):
        self._max, self._log, self._transient = max_attempts, log, transient
        self._counts: dict[Hashable, int] = {}

    async def run(self, key: Hashable, what: str, action: Callable[[], Awaitable[object]],
                  give_up: Callable[[str], Awaitable[object]]) -> None:
        """Run ``action``; re-raise a failure (the caller retries) until ``max_attempts``,
        then log only the error type and run ``give_up(error type)``.  An infrastructure failure
        is re-raised without counting: the step waits for the service to come back."""
        try:
            await action()
        except Exception as exc:
            if self._transient(exc):
                raise
            attempts = self._counts.get(key, 0) + 1
            self._counts[key] = attempts
            if attempts < self._max:
                raise
            self._log.warning("%s failed %d times (%s); going on without it", what, attempts, type(exc).__name__)
            await give_up(type(exc).__name__)
        self._counts.pop(key, None)

    def __len__(self) -> int:
        return len(self._counts)


class SessionLocks:
    """One :class:`asyncio.Lock` per session, dropped when nobody holds or waits for it."""

    def __init__(self):
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: collections.Counter[str] = collections.Counter()

    @contextlib.asynccontextmanager
    async def hold(self, sid: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(sid, asyncio.Lock())
        self._users[sid] += 1
        try:
            async with lock:
                yield
        finally:
            self._users[sid] -= 1
            if self._users[sid] <= 0:
                del self._users[sid]
                self._locks.pop(sid, None)

    def __len__(self) -> int:
        return len(self._locks)
