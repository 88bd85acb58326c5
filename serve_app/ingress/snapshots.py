"""State reads from a snapshot the ingress keeps fresh by watching the store.

Polled state reads are most of the ingress's traffic.  With only :class:`Coalescer`, every wave of
readers of a session waits for one store round trip, and the store actor's one event loop is also
journaling (and fsyncing) every write of every session: a read waits behind those writes.  Here the
first read of a session fetches ``(version, body)`` once, and a *watch* (one long-poll store call
per watched session, :meth:`ClientApi.wait_version`) returns as soon as the session changes; until
it does, reads are answered from the snapshot without touching the store.

Freshness, exactly:

* A snapshot is served only while its watch is running; the watch drops it when the store reports
  a newer version, when the watch fails (a store restart, a deleted session) or when nobody has
  read it for ``idle_s``.
* A write answered by this ingress drops the session's snapshot before its answer is sent
  (:meth:`StateSnapshots.invalidate`, called by :class:`~serve_app.ingress.fast_reads.FastStateReads`),
  so a client that was told "202" and then reads sees its own write; a fetch that was already under
  way when the write landed is served to the readers that joined it but not kept.
* Events this ingress hands out (SSE, long-poll) drop an older snapshot too (:meth:`saw`), so a
  client never reads a state older than an event it was sent.
* A change made elsewhere (the pipeline, another ingress replica) is seen when the watch's answer
  arrives: one store reply after the change was journaled.

Snapshots are per owner: another clinician's read of the same id goes to the store (and gets its
404).  At most ``max_sessions`` sessions are watched (least recently read dropped first).
"""
from __future__ import annotations

import asyncio
import collections
import logging
import time
from typing import Awaitable, Callable

from serve_app.ingress.coalesce import Coalescer

__all__ = ["StateSnapshots"]

log = logging.getLogger("scribe.ingress")

Fetch = Callable[[str, str], Awaitable[tuple[int, bytes]]]
WaitVersion = Callable[[str, str, int, float], Awaitable[int]]


class _Watched:
    """One watched session: its owner, the version the watch waits past, and the snapshot if valid."""

    def __init__(self, owner: str):
        self.owner = owner
        self.version = -1  # the newest version known; the watch waits for one past it
        self.body: bytes | None = None
        self.generation = 0  # raised by every invalidation: a fetch begun before one is not kept
        self.read_at = time.monotonic()
        self.task: asyncio.Task | None = None

    def live(self) -> bool:
        """Its watch is running, in this event loop (a test client's loop per request would strand it)."""
        task = self.task
        return task is not None and not task.done() and task.get_loop() is asyncio.get_running_loop()

    def drop(self) -> None:
        self.body = None
        self.generation += 1

    def advance(self, version: int) -> None:
        """The session is known to be at ``version``: an older snapshot is dropped."""
        if version > self.version:
            self.version = version
            self.drop()


class StateSnapshots:
    """``await snapshots.read(clinician, sid)`` -> the state JSON bytes (see the module docstring).

    Args:
        fetch: ``(clinician, sid) -> (version, body)`` (the store's ``get_state_json``).
        wait_version: ``(clinician, sid, version, timeout_s) -> version`` (the store's ``wait_version``).
        max_sessions: sessions watched at once (each holds one store call open).
        idle_s: a snapshot nobody read for this long is dropped and its watch ended.
        watch_s: how long one watch call waits before it is renewed.
    """

    def __init__(self, fetch: Fetch, wait_version: WaitVersion, max_sessions: int = 64,
                 idle_s: float = 30.0, watch_s: float = 10.0):
        self._fetch, self._wait = fetch, wait_version
        self._max, self._idle_s, self._watch_s = max_sessions, idle_s, min(watch_s, idle_s)
        self._watched: collections.OrderedDict[str, _Watched] = collections.OrderedDict()
        self._reads = Coalescer()
        self.fetches = 0  # store fetches made (tests, benchmarks)

    async def read(self, clinician: str, sid: str) -> bytes:
        watched = self._watched.get(sid)
        if watched is not None and watched.owner == clinician:
            watched.read_at = time.monotonic()
            self._watched.move_to_end(sid)
            if watched.body is not None and watched.live():
                return watched.body
        return await self._reads.read((clinician, sid), lambda: self._fetch_and_keep(clinician, sid))

    def invalidate(self, sid: str) -> None:
        """``sid`` was written through this ingress: the next read fetches."""
        watched = self._watched.get(sid)
        if watched is not None:
            watched.drop()

    def saw(self, sid: str, version: int) -> None:
        """An event of ``sid`` with id ``version`` is being handed to a client: drop an older snapshot."""
        watched = self._watched.get(sid)
        if watched is not None:
            watched.advance(version)

    @property
    def watched(self) -> int:
        return len(self._watched)

    async def _fetch_and_keep(self, clinician: str, sid: str) -> bytes:
        watched = self._watched.get(sid)
        if watched is None:  # registered before the fetch, so a write landing during it is noticed
            watched = self._add(clinician, sid)
        elif watched.owner != clinician:  # another clinician's session: the store answers 404
            return (await self._fetch(clinician, sid))[1]
        generation = watched.generation
        self.fetches += 1
        try:
            version, body = await self._fetch(clinician, sid)
        except BaseException:
            if watched.task is None and self._watched.get(sid) is watched:
                del self._watched[sid]
            raise
        if self._watched.get(sid) is not watched:  # dropped meanwhile (evicted, closed)
            return body
        if watched.generation == generation and version >= watched.version:
            watched.body = body
        watched.version = max(watched.version, version)
        if not watched.live():
            watched.task = asyncio.get_running_loop().create_task(self._watch(sid, watched))
        return body

    def _add(self, clinician: str, sid: str) -> _Watched:
        while len(self._watched) >= self._max:
            self._forget(next(iter(self._watched)))  # least recently read
        watched = self._watched[sid] = _Watched(clinician)
        return watched

    async def _watch(self, sid: str, watched: _Watched) -> None:
        try:
            while time.monotonic() - watched.read_at < self._idle_s:
                watched.advance(await self._wait(watched.owner, sid, watched.version, self._watch_s))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a restarting store, a deleted session: stop serving it
            log.debug("state watch ended (%s)", type(exc).__name__)
        finally:
            if self._watched.get(sid) is watched:
                del self._watched[sid]
            watched.drop()

    def _forget(self, sid: str) -> None:
        watched = self._watched.pop(sid)
        watched.drop()
        if watched.task is not None:
            watched.task.cancel()
