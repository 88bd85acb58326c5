"""What the page shows of one session, kept current by folding the API's events.

:class:`SessionView` starts from ``GET /v1/sessions/{sid}`` (its ``last_event_id`` is where
the event stream resumes) and applies each streamed event exactly as the event catalogue
describes it, so the page never re-reads the whole state while it follows a session.
It also remembers which note items are new or changed in the latest version, for a
moment, so the page can show what changed.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from serve_app.contracts import SECTIONS

__all__ = ["SessionView", "ChunkLedger", "note_changes"]

#: How long a changed note item stays highlighted (seconds).
CHANGE_VISIBLE_S = 6.0


def _items(note: dict[str, Any] | None) -> dict[str, tuple[str, str]]:
    """``{item id: (section, text)}`` of a note."""
    out: dict[str, tuple[str, str]] = {}
    for section in SECTIONS:
        for item in (note or {}).get(section) or []:
            out[item["id"]] = (section, item["text"])
    return out


def note_changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> tuple[set[str], set[str], int]:
    """``(added ids, changed ids, removed count)`` from one note version to the next.

    An item is *changed* when its id stays and its text differs, *added* when its id or its
    text is new (note writers may renumber items, so a known text under a new id is neither)."""
    old, new = _items(before), _items(after)
    old_texts = {text for _, text in old.values()}
    added = {i for i, (_, text) in new.items() if i not in old and text not in old_texts}
    changed = {i for i, (_, text) in new.items() if i in old and old[i][1] != text}
    new_texts = {text for _, text in new.values()}
    removed = sum(1 for i, (_, text) in old.items() if i not in new and text not in new_texts)
    return added, changed, removed


@dataclass
class ChunkLedger:
    """The page's own record of the audio chunks it sent: acknowledged, pending, failed."""

    acknowledged: set[int] = field(default_factory=set)
    pending: dict[int, bytes] = field(default_factory=dict)
    failed: dict[int, str] = field(default_factory=dict)
    next_seq: int = 0

    def summary(self) -> str:
        return (f"{len(self.acknowledged)} acknowledged, {len(self.pending)} pending, "
                f"{len(self.failed)} failed")


@dataclass
class SessionView:
    """One session as the page shows it (masked text only; names are applied when rendering)."""

    session_id: str
    status: str = "recording"
    segments: dict[str, dict[str, Any]] = field(default_factory=dict)
    note: dict[str, Any] | None = None
    note_version: int = 0
    note_final: bool = False
    note_source: str | None = None
    note_event_ts: float = 0.0
    warnings: list[dict[str, Any]] = field(default_factory=list)
    warnings_version: int = 0
    chunks_processed: set[int] = field(default_factory=set)
    chunks_failed: set[int] = field(default_factory=set)
    finish_requested: bool = False
    note_failed: bool = False
    deleted: bool = False
    feedback: list[str] = field(default_factory=list)
    last_event_id: int = 0
    changed: dict[str, float] = field(default_factory=dict)
    last_change: str = ""
    tentative: str = ""  # masked words heard but not committed yet (the latest words_tentative)

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> SessionView:
        """The view of a ``GET /v1/sessions/{sid}`` document."""
        view = cls(session_id=state["session_id"], status=state["status"],
                   segments={s["id"]: dict(s) for s in state.get("segments") or []},
                   note=state.get("note"), note_version=int(state.get("note_version") or 0),
                   warnings=list(state.get("warnings") or []),
                   warnings_version=int(state.get("warnings_version") or 0),
                   last_event_id=int(state.get("last_event_id") or 0))
        view.note_final = view.status == "finished" and view.note is not None
        view.finish_requested = view.status in ("processing", "finished")
        return view

    # events -----------------------------------------------------------------------------------
    def apply(self, event: dict[str, Any], now: float | None = None) -> None:
        """Fold one streamed event (``{id, type, ts, data}``); events at or before the cursor are ignored."""
        event_id = int(event.get("id") or 0)
        if event_id and event_id <= self.last_event_id:
            return
        self.last_event_id = max(self.last_event_id, event_id)
        handler = getattr(self, f"_on_{event.get('type')}", None)
        if handler is not None:
            handler(event.get("data") or {}, event, time.time() if now is None else now)

    def _add_segments(self, data: dict[str, Any], ts: float = 0.0) -> None:
        for segment in data.get("segments") or []:
            self.segments[segment["id"]] = {**segment, "event_ts": ts}
        for sid, update in (data.get("role_updates") or {}).items():
            if sid in self.segments:
                self.segments[sid].update(update)

    def _on_chunk_processed(self, data, event, now) -> None:
        self.chunks_processed.add(int(data["seq"]))
        self._add_segments(data, float(event.get("ts") or 0.0))
        self.tentative = ""  # committed words replace what was shown before them

    def _on_words_tentative(self, data, event, now) -> None:
        self.tentative = str(data.get("text") or "")

    def _on_batch_processed(self, data, event, now) -> None:
        self._add_segments(data, float(event.get("ts") or 0.0))

    def _on_asr_flushed(self, data, event, now) -> None:
        self._add_segments(data, float(event.get("ts") or 0.0))
        self.tentative = ""

    def _on_chunk_failed(self, data, event, now) -> None:
        self.chunks_failed.add(int(data["seq"]))
        self.tentative = ""

    def _on_chunks_skipped(self, data, event, now) -> None:
        self.chunks_failed.update(int(s) for s in data.get("seqs") or [])

    def _on_role_corrected(self, data, event, now) -> None:
        segment = self.segments.get(data["segment"])
        if segment is not None:
            segment.update(role=data["role"], role_confidence=1.0, role_uncertain=False, role_source="clinician")

    def _on_finish_requested(self, data, event, now) -> None:
        self.finish_requested = True
        if self.status == "recording":
            self.status = "processing"

    def _on_note_updated(self, data, event, now) -> None:
        added, changed, removed = note_changes(self.note, data["note"])
        self.changed = {i: now for i in added | changed}
        self.last_change = f"{len(added)} new, {len(changed)} changed, {removed} removed"
        self.note, self.note_version = data["note"], int(data["version"])
        self.note_final, self.note_source = bool(data.get("final")), data.get("source")
        self.note_event_ts = float(event.get("ts") or 0.0)
        if self.warnings_version != self.note_version:
            self.warnings = []

    def _on_note_failed(self, data, event, now) -> None:
        self.note_failed = True

    def _on_warnings_updated(self, data, event, now) -> None:
        if int(data["note_version"]) >= self.note_version:
            self.warnings, self.warnings_version = list(data.get("warnings") or []), int(data["note_version"])

    def _on_feedback_recorded(self, data, event, now) -> None:
        self.feedback.append(data["action"])

    def _on_finished(self, data, event, now) -> None:
        self.status = "finished"

    def _on_deleted(self, data, event, now) -> None:
        self.deleted = True

    # questions the page asks ------------------------------------------------------------------
    def recently_changed(self, now: float | None = None) -> set[str]:
        """Note items added or changed in the latest version, while they are still highlighted."""
        now = time.time() if now is None else now
        return {i for i, at in self.changed.items() if now - at < CHANGE_VISIBLE_S}

    def progress(self) -> str:
        """One plain sentence about what the service is doing for this session."""
        if self.deleted:
            return "This session was deleted."
        if self.status == "finished":
            if self.note_failed:
                return "Finished, but the final note could not be written; the last draft is shown."
            return "Finished. Review the note, then accept, edit or reject it."
        if self.status == "failed":
            return "Processing failed for this session."
        if self.finish_requested:
            return "Finishing: transcribing the last audio and writing the final note…"
        if self.segments and self.note is None:
            return "Listening. The first draft of the note is being written…"
        return "Listening." if self.segments else "Waiting for speech…"
