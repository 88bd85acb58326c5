"""Compaction of a finished session's journal: what a later event replaced is not kept forever.

A session writes a draft note every few seconds while recording; each ``note_updated`` event holds a
whole note, and each ``warnings_updated`` the checks of one.  Once the session has finished, only
the last of each still shapes its state, so the others are dropped from the journal (their ids stay
unused: a stream resumed with ``Last-Event-ID`` still gets every later event).  ``words_tentative``
events (words shown before they were committed) are all dropped.  Kept: the last note
and last warnings, every note a clinician gave feedback on (the datasets cite them), and every
other kind of event.  Folding the compacted events gives the same state as folding all of them.
"""
from __future__ import annotations

from typing import Any

__all__ = ["compact", "finished_at"]


def compact(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``events`` without the notes and warnings that later ones replaced (see the module doc)."""
    judged = {e["data"].get("note_version") for e in events if e["type"] == "feedback_recorded"}
    last_note = max((e["id"] for e in events if e["type"] == "note_updated"), default=None)
    last_warnings = max((e["id"] for e in events if e["type"] == "warnings_updated"), default=None)

    def keep(event: dict[str, Any]) -> bool:
        if event["type"] == "note_updated":
            return event["id"] == last_note or event["data"].get("version") in judged
        if event["type"] == "warnings_updated":
            return event["id"] == last_warnings
        return event["type"] != "words_tentative"

    return [e for e in events if keep(e)]


def finished_at(events: list[dict[str, Any]]) -> float | None:
    """When the session finished (its ``finished`` event), or None."""
    return next((e["ts"] for e in reversed(events) if e["type"] == "finished"), None)
