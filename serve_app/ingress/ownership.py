"""Which sessions a clinician was already shown to own, so a chunk upload skips the store's check.

``PUT /v1/sessions/{sid}/audio/{seq}`` checks ownership *before* decoding (a stranger learns nothing
from decoding errors), which was one store round trip per chunk on top of the one that stores it:
about a quarter of the ingress's handling of a chunk (py-spy), paid 16 times together whenever 16 live sessions
send their chunks at the same moment, while state reads wait behind them.  Ownership never changes
during a session's life, so a positive answer can be remembered: only ``(clinician, sid)`` pairs the
store confirmed are kept, so a stranger is always asked about at the store (and gets its 404).

A remembered pair is dropped when this ingress deletes the session or the store answers 404 for it.
If another replica deleted it, the next store call (the chunk's own ``put_chunk``) still answers 404:
the owner, and only the owner, may then see a decoding error for a session that has just gone.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Awaitable, Callable

__all__ = ["OwnedSessions"]


class OwnedSessions:
    """A bounded set of confirmed ``(clinician, sid)`` pairs in front of the store's ownership check.

    Args:
        check: ``(clinician, sid) ->`` True, or raises the 404 ``NotFound`` (the store's check).
        capacity: pairs remembered (least recently used forgotten first).
    """

    def __init__(self, check: Callable[[str, str], Awaitable[bool]], capacity: int = 4096):
        self._check, self._capacity = check, capacity
        self._owned: OrderedDict[tuple[str, str], None] = OrderedDict()

    async def require(self, clinician: str, sid: str) -> None:
        """Return if ``clinician`` owns ``sid``; raises the store's 404 otherwise."""
        key = (clinician, sid)
        if key in self._owned:
            self._owned.move_to_end(key)
            return
        await self._check(clinician, sid)
        self._owned[key] = None
        if len(self._owned) > self._capacity:
            self._owned.popitem(last=False)

    def forget(self, sid: str) -> None:
        """``sid`` was deleted or the store no longer knows it: ask the store next time."""
        for key in [k for k in self._owned if k[1] == sid]:
            del self._owned[key]

    def __len__(self) -> int:
        return len(self._owned)
