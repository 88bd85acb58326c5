"""Event-stream slots: how many SSE streams a session and a clinician may hold open at once.

Every open stream holds an ingress request slot and a long-poll in the store, so one token must
not be able to open hundreds (review H4).  A stream takes a :class:`Slot` before its response
starts (beyond a cap the request is a 429 ``too_many_streams`` with ``Retry-After``) and gives it
back when it ends for any reason.  Releasing is idempotent, and a slot older than the stream's
maximum lifetime plus a margin is reclaimed on the next acquire, so even a stream whose cleanup
never ran cannot hold a slot for ever.  Counts are per ingress replica (each replica's own
connections).
"""
from __future__ import annotations

import itertools
import time
from typing import Callable

from serve_app.errors import TooManyRequests

__all__ = ["StreamSlots", "Slot"]


class Slot:
    """One open stream's hold on its session's and clinician's counts."""

    def __init__(self, slots: "StreamSlots", key: int, clinician: str, sid: str):
        self._slots, self.key, self.clinician, self.sid = slots, key, clinician, sid

    def release(self) -> None:
        self._slots._release(self.key)


class StreamSlots:
    """Caps on open streams per session and per clinician.

    Args:
        per_session: streams one session may have open.
        per_clinician: streams one clinician may have open, over all sessions.
        lifetime_s: a stream's maximum lifetime; slots held longer (plus ``grace_s``) are reclaimed.
        clock: monotonic seconds (injectable for tests).
    """

    def __init__(self, per_session: int, per_clinician: int, lifetime_s: float, grace_s: float = 60.0,
                 clock: Callable[[], float] = time.monotonic):
        self.per_session, self.per_clinician = per_session, per_clinician
        self._expiry_s = lifetime_s + grace_s
        self._clock = clock
        self._open: dict[int, tuple[str, str, float]] = {}
        self._ids = itertools.count()

    def open_count(self, clinician: str | None = None, sid: str | None = None) -> int:
        return sum(1 for who, s, _ in self._open.values()
                   if (clinician is None or who == clinician) and (sid is None or s == sid))

    def acquire(self, clinician: str, sid: str) -> Slot:
        """A slot for a new stream of ``sid``; :class:`TooManyRequests` (429) beyond either cap."""
        now = self._clock()
        for key, (_, _, since) in list(self._open.items()):
            if now - since > self._expiry_s:
                del self._open[key]
        if self.open_count(sid=sid) >= self.per_session:
            raise TooManyRequests(f"This session already has {self.per_session} open event streams; close one "
                                  "or retry later.", code="too_many_streams", retry_after=5)
        if self.open_count(clinician=clinician) >= self.per_clinician:
            raise TooManyRequests(f"You already have {self.per_clinician} open event streams; close one or retry "
                                  "later.", code="too_many_streams", retry_after=5)
        key = next(self._ids)
        self._open[key] = (clinician, sid, now)
        return Slot(self, key, clinician, sid)

    def _release(self, key: int) -> None:
        self._open.pop(key, None)
