"""A clinician's feedback on a note: replay, context, and the durable record."""
from __future__ import annotations

from typing import Any

from serve_app.errors import Conflict
from serve_app.sessions.book import SessionBook
from serve_app.sessions.idempotency import replay
from serve_app.sessions.views import prompt_segments

__all__ = ["FeedbackLog"]


class FeedbackLog:
    """What the feedback recorder asks and records (owner-scoped like every client call)."""

    def __init__(self, book: SessionBook):
        self._book = book

    def feedback_replay(self, owner: str, sid: str, idempotency_key: str | None,
                        fingerprint: str | None = None) -> dict[str, Any] | None:
        """The answer a feedback with this ``Idempotency-Key`` already got, if any (422 if that
        feedback had another body)."""
        state = self._book.owned(owner, sid)
        return replay(state.idempotency, "feedback", idempotency_key, fingerprint, self._book.clock())

    def feedback_context(self, owner: str, sid: str, note_version: int) -> dict[str, Any]:
        """What a feedback on note ``note_version`` is recorded with: that note, the masked transcript, names."""
        book = self._book
        state = book.owned(owner, sid)
        note = next((e["data"] for e in reversed(book.events_of(sid))
                     if e["type"] == "note_updated" and e["data"]["version"] == note_version), None)
        if note is None:
            raise Conflict(f"This session has no note version {note_version}.", code="unknown_note_version")
        return {"note": note["note"], "note_source": note.get("source", "model"),
                "segments": prompt_segments(state), "names": dict(book.names(sid))}

    def record_feedback(self, owner: str, sid: str, feedback_id: str, action: str, note_version: int,
                        final_note: dict[str, Any] | None, idempotency_key: str | None,
                        names_delta: dict[str, str] | None, fingerprint: str | None = None) -> dict[str, Any]:
        """Record a durable feedback; an accepted or edited note becomes the final note (version + 1)."""
        book = self._book
        state = book.owned(owner, sid)
        if feedback_id in state.feedback_ids:
            return {"feedback_id": feedback_id, "replayed": True}
        book.save_names(sid, names_delta)
        accepted_current = action == "accept" and note_version == state.note_version
        if action in ("accept", "edit") and final_note is not None and not accepted_current:
            book.emit(sid, "note_updated", {"version": state.note_version + 1, "basis": state.input_revision,
                                            "final": True, "note": final_note, "source": "clinician",
                                            "stats": {"judged_version": note_version, "action": action}})
        book.emit(sid, "feedback_recorded", {"feedback_id": feedback_id, "action": action,
                                             "note_version": note_version, "idempotency_key": idempotency_key,
                                             "fingerprint": fingerprint})
        return {"feedback_id": feedback_id, "replayed": False}
