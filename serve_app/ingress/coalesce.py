"""Single-flight reads: concurrent identical reads share one store round trip.

Sixty-four clients polling one session's state should cost the store a handful of calls, not
sixty-four.  A read joins a call only if that call *started after* the read arrived, so every
answer is at least as new as the moment it was asked for (a client that was just told "202" and
then reads sees its own write): a read arriving while a call is in flight waits for the next one,
which starts as soon as the current one ends and serves every read that queued behind it.
"""
from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable, Hashable

__all__ = ["Coalescer"]


class _Flight:
    def __init__(self):
        self.future: asyncio.Future = asyncio.get_running_loop().create_future()


class Coalescer:
    """``await coalescer.read(key, fetch)``: ``fetch()`` runs at most once per wave of callers of ``key``.

    Keys must include everything that changes the answer *or who may see it* (the clinician id
    as well as the session id), so one clinician never receives a read made for another; a wave
    runs the ``fetch`` of its first caller, so callers of one key must pass equivalent ones.
    """

    def __init__(self):
        self._running: dict[Hashable, _Flight] = {}
        self._next: dict[Hashable, _Flight] = {}
        self.calls = 0  # store round trips actually made (tests, benchmarks)

    async def read(self, key: Hashable, fetch: Callable[[], Awaitable[Any]]) -> Any:
        if key in self._running:  # a call is under way that started before us: ride the next one
            flight = self._next.get(key)
            if flight is None:
                flight = self._next[key] = _Flight()
            return await asyncio.shield(flight.future)
        flight = _Flight()
        self._running[key] = flight
        asyncio.get_running_loop().create_task(self._run(key, flight, fetch))
        return await asyncio.shield(flight.future)

    async def _run(self, key: Hashable, flight: _Flight, fetch: Callable[[], Awaitable[Any]]) -> None:
        while flight is not None:
            self.calls += 1
            try:
                flight.future.set_result(await fetch())
            except BaseException as exc:  # noqa: BLE001 - every waiter gets the same error
                flight.future.set_exception(exc)
                flight.future.exception()  # mark retrieved: a wave nobody awaits any more is not an error
            flight = self._next.pop(key, None)
            if flight is None:
                self._running.pop(key, None)
            else:
                self._running[key] = flight
