"""The store's catalog: one small entry per session, so the store needs in memory only the sessions
that are still active, whatever the number of finished ones on disk.

An entry (a plain dict, persisted by the journal backend) holds what the store must know about a
session *without* loading its events::

    owner, created_at, updated_at, status, segments   the row of GET /v1/sessions
    active       unfinished, or finished with work still due (a corrected transcript's new note):
                 loaded at start; every other session is loaded on first use
    finished_at  when it finished (retention's clock)
    key          the create's Idempotency-Key (a retried create finds its session after a restart)
    raw_deleted, voice_removed   retention steps already done (a sweep skips them)

Entries are written before the event that makes them true (a create's entry before its first
event: an entry without events is dropped at start) and repaired from the events at start.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterator

from serve_app.sessions.views import summary

__all__ = ["Catalog", "entry_of"]


def entry_of(state, previous: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    """The catalog entry of session ``state``: ``previous`` (its retention flags, key, finish time)
    updated with the state's list row and ``fields``."""
    row = summary(state)
    del row["session_id"]
    return {**(previous or {}), "owner": state.owner, **row, **fields}


class Catalog:
    """Entries by session id, indexed by owner and by (owner, create Idempotency-Key)."""

    def __init__(self, entries: dict[str, dict[str, Any]]):
        self.entries: dict[str, dict[str, Any]] = {}
        self._by_owner: dict[str, set[str]] = defaultdict(set)
        self._keys: dict[tuple[str, str], str] = {}
        for sid, entry in entries.items():
            self.set(sid, entry)

    def __contains__(self, sid: str) -> bool:
        return sid in self.entries

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, sid: str) -> dict[str, Any] | None:
        return self.entries.get(sid)

    def set(self, sid: str, entry: dict[str, Any]) -> None:
        self.drop(sid)
        self.entries[sid] = entry
        self._by_owner[entry["owner"]].add(sid)
        if entry.get("key"):
            self._keys[(entry["owner"], entry["key"])] = sid

    def drop(self, sid: str) -> None:
        entry = self.entries.pop(sid, None)
        if entry is None:
            return
        self._by_owner[entry["owner"]].discard(sid)
        if not self._by_owner[entry["owner"]]:
            del self._by_owner[entry["owner"]]
        if entry.get("key") and self._keys.get((entry["owner"], entry["key"])) == sid:
            del self._keys[(entry["owner"], entry["key"])]

    def owned_by(self, owner: str) -> list[str]:
        return list(self._by_owner.get(owner, ()))

    def created_with(self, owner: str, key: str) -> str | None:
        """The session ``owner`` created with Idempotency-Key ``key``, if any."""
        return self._keys.get((owner, key))

    def active(self) -> list[str]:
        return [sid for sid, e in self.entries.items() if e.get("active")]

    def finished(self) -> Iterator[tuple[str, dict[str, Any]]]:
        return ((sid, e) for sid, e in list(self.entries.items()) if e.get("finished_at") is not None)
