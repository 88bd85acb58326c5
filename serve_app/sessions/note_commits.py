"""Note drafts, final notes and their guardrail warnings: inputs and fenced commits."""
from __future__ import annotations

from typing import Any

from serve_app.contracts import CheckInputs, Note, NoteInputs, Warning
from serve_app.sessions.book import SessionBook
from serve_app.sessions.views import check_inputs, note_inputs

__all__ = ["NoteCommits"]


class NoteCommits:
    """What the note updater and the note checks ask and commit."""

    def __init__(self, book: SessionBook):
        self._book = book

    def sessions_needing_notes(self) -> list[str]:
        """Sessions whose note lags behind their transcript: recording, or finished and corrected."""
        if not self._book.spec.notes:
            return []
        return [sid for sid, s in self._book.sessions.items() if s.note_stale()]

    def note_inputs(self, sid: str) -> NoteInputs:
        """What the next note is written from (see :func:`~serve_app.sessions.views.note_inputs`)."""
        return note_inputs(self._book.state(sid))

    def commit_note(self, sid: str, basis: int, note: Note, final: bool,
                    stats: dict[str, Any] | None = None) -> bool:
        """Record a note written from input revision ``basis`` as the next ``note_version``.

        Fenced: a draft is taken only while recording and if it is newer than the
        current note; the final note only when the session is waiting for it
        with that very basis, or, once finished, if it is newer (a role
        correction).  False when the commit is stale (nothing changes).
        """
        book = self._book
        state = book.get(sid)
        if state is None:
            return False
        if state.finished:  # a correction after finish: a newer final note replaces the last one
            if not final or basis <= state.note_basis:
                return False
        elif final:
            item = book.work(state)
            if item.kind != "final_note" or item.basis != basis:
                return False
        elif state.finish_requested_at is not None or basis <= state.note_basis:
            return False
        book.emit(sid, "note_updated", {"version": state.note_version + 1, "basis": basis, "final": final,
                                        "note": note, "stats": stats or {}})
        return True

    def sessions_needing_checks(self) -> list[str]:
        """Sessions whose current note has not been checked (drafts; final notes go through next_work)."""
        if not self._book.spec.checks:
            return []
        return [sid for sid, s in self._book.sessions.items() if s.checks_stale()]

    def check_inputs(self, sid: str) -> CheckInputs:
        """The current note, its version, whether it was checked, and the masked segments."""
        return check_inputs(self._book.state(sid))

    def commit_warnings(self, sid: str, note_version: int, warnings: list[Warning]) -> bool:
        """Record the warnings of note ``note_version``; False if that note is no longer current."""
        state = self._book.get(sid)
        if state is None or note_version != state.note_version or note_version <= state.warnings_version:
            return False
        self._book.emit(sid, "warnings_updated", {"note_version": note_version, "warnings": warnings})
        return True
