"""Retention: PHI kept no longer than it is needed, swept by the store itself.

For each finished session (the time of its ``finished`` event):

* raw audio and raw text batches are deleted at the first sweep (unless ``keep_audio``): the
  masked transcript, roles and note are in the journal and nothing reads them again;
* per-word voice features (biometric) are removed from the journal once
  ``voice_features_days`` have passed: roles are settled when the session finishes;
* after ``session_days`` the whole session is erased (journal, names, blobs) and its streams end.

A role object of the store (``store.retention``), so it runs inside the store actor, between
other store calls, on the same journal.
"""
from __future__ import annotations

from typing import Any

from serve_app.sessions.book import SessionBook

__all__ = ["RetentionSweep"]

_DAY = 86400.0


def _strip_voice(value: Any) -> bool:
    """Remove ``_voice`` keys anywhere in ``value`` in place; True if any was removed."""
    changed = False
    if isinstance(value, dict):
        changed = value.pop("_voice", None) is not None
        for item in value.values():
            changed |= _strip_voice(item)
    elif isinstance(value, list):
        for item in value:
            changed |= _strip_voice(item)
    return changed


class RetentionSweep:
    def __init__(self, book: SessionBook):
        self._book = book

    def sweep(self, keep_audio: bool, session_days: float, voice_features_days: float) -> dict[str, int]:
        """Apply the retention policy to every finished session; returns counts of what was removed.

        Walks the catalog (:mod:`.catalog`), not the sessions: a step already done is recorded in the
        session's entry and skipped, so a sweep loads a finished session only the one time its voice
        features are due to go."""
        book, now = self._book, self._book.clock()
        counts = {"sessions_erased": 0, "raw_files_deleted": 0, "sessions_voice_removed": 0}
        for sid, entry in book.catalog.finished():
            if entry.get("active"):
                continue
            age = now - entry["finished_at"]
            if age >= session_days * _DAY:
                book.forget(sid)
                counts["sessions_erased"] += 1
                continue
            if not keep_audio and not entry.get("raw_deleted"):
                counts["raw_files_deleted"] += book.journal.delete_blobs(sid, ("chunk-", "batch-"))
                book.mark(sid, raw_deleted=True)
            if age >= voice_features_days * _DAY and not entry.get("voice_removed"):
                if (state := book.get(sid)) is None:
                    continue
                events = book.events_of(sid)
                if any([_strip_voice(e.get("data")) for e in events]):  # a list: strip every event
                    book.journal.rewrite_events(sid, events)
                    _strip_voice(state.segments)
                    counts["sessions_voice_removed"] += 1
                book.mark(sid, voice_removed=True)
        return counts
