"""Read-only projections of a session's state into the documents callers receive.

Pure functions of :class:`~serve_app.sessions.model.SessionState` (no I/O): the API
state document, list rows, public events, and the inputs of a note or a check.
"""
from __future__ import annotations

from typing import Any

from serve_app.contracts import (
    HIDDEN_EVENT_FIELDS,
    CheckInputs,
    Event,
    NoteInputs,
    PromptSegment,
    SessionStateDoc,
    SessionSummaryDoc,
)
from serve_app.sessions.model import SessionState

__all__ = ["public_segment", "public_event", "state_doc", "summary", "note_inputs", "check_inputs",
           "prompt_segments"]


def public_segment(seg: dict[str, Any]) -> dict[str, Any]:
    """A segment as clients see it: internal fields (``_voice``, ``_channels``) removed."""
    return {k: v for k, v in seg.items() if not k.startswith("_")}


def public_event(event: dict[str, Any]) -> Event:
    """An event as streamed: store-only fields (owner, idempotency key) and internal segment fields removed."""
    data = {k: v for k, v in event.get("data", {}).items() if k not in HIDDEN_EVENT_FIELDS}
    if "segments" in data:
        data["segments"] = [public_segment(seg) for seg in data["segments"]]
    return {"id": event["id"], "type": event["type"], "ts": event["ts"], "data": data}


def state_doc(s: SessionState) -> SessionStateDoc:
    """The session as API.md's state document."""
    return {
        "session_id": s.session_id,
        "status": s.status,
        "created_at": s.created_at,
        "updated_at": s.updated_at,
        "channels": s.channels,
        "chunks": {
            "received": len(s.chunks),
            "processed": sum(1 for c in s.chunks.values() if c.status == "processed"),
            "missing": s.missing(),
            "failed": sorted(c.seq for c in s.chunks.values() if c.status == "failed"),
        },
        "segments": [public_segment(seg) for seg in s.segments],
        "note_version": s.note_version,
        "note": s.note,
        "warnings": s.warnings,
        "warnings_version": s.warnings_version,
        "last_event_id": s.last_event_id,
    }


def summary(s: SessionState) -> SessionSummaryDoc:
    """One row of the clinician's session list."""
    return {"session_id": s.session_id, "status": s.status, "created_at": s.created_at,
            "updated_at": s.updated_at, "segments": len(s.segments)}


def prompt_segments(s: SessionState) -> list[PromptSegment]:
    """The masked transcript as the note writer and the datasets see it: id, text, role."""
    return [{"id": seg["id"], "text": seg["text"], "role": seg.get("role")} for seg in s.segments]


def note_inputs(s: SessionState) -> NoteInputs:
    """What the next note is written from: the masked segments at input revision ``basis``."""
    return {
        "basis": s.input_revision,
        "note_basis": s.note_basis,
        "note_final": s.note_final,
        "finish_requested": s.finish_requested_at is not None,
        "finished": s.finished,
        "segments": prompt_segments(s),
    }


def check_inputs(s: SessionState) -> CheckInputs:
    """The current note, its version, whether it was checked, and the masked segments."""
    return {"note_version": s.note_version, "note": s.note, "checked": not s.checks_stale(),
            "segments": [{"id": seg["id"], "text": seg["text"]} for seg in s.segments]}
