"""Calls made by the pipeline: what to do next, the inputs of a step, and the fenced
commits of its result.

Every commit is a question put to the session model first: a step that was already
committed, or that the session no longer waits for, changes nothing and returns
``False``; so a step repeated after a crash or by a second worker is harmless.
"""
from __future__ import annotations

import json
from typing import Any

from serve_app.contracts import ChunkData
from serve_app.sessions.book import SessionBook
from serve_app.sessions.model import SessionState, WorkItem

__all__ = ["PipelineFences"]


def _role_updates(state: SessionState, role_updates: dict[str, dict] | None) -> dict[str, Any]:
    """Role revisions worth recording: of existing segments whose role no one fixed since."""
    keep = {}
    for segment_id, update in (role_updates or {}).items():
        seg = state.segment(segment_id)
        if seg is not None and seg.get("role_source") in (None, "model"):
            keep[segment_id] = update
    return {"role_updates": keep} if keep else {}


def _numbered(state: SessionState, segments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    base = len(state.segments)
    return [{**seg, "id": f"s{base + i}"} for i, seg in enumerate(segments)]


class PipelineFences:
    """The work queue of the pipeline and the commits that end each step."""

    def __init__(self, book: SessionBook):
        self._book = book

    # -- what to do -------------------------------------------------------------
    def sessions_with_work(self) -> list[str]:
        """Sessions with a step to do now (the pipeline's periodic scan)."""
        book = self._book
        now = book.clock()
        return [sid for sid, s in book.sessions.items() if not s.finished and book.work(s, now).kind != "idle"]

    def next_work(self, sid: str) -> WorkItem:
        state = self._book.get(sid)
        if state is None:
            return WorkItem("gone")
        return self._book.work(state)

    # -- inputs of a step -------------------------------------------------------
    def names(self, sid: str) -> dict[str, str]:
        """The session's placeholder map (masking keeps placeholders consistent with it)."""
        return self._book.names(sid)

    def chunk_info(self, sid: str, seqs: list[int], with_data: list[int] | None = None) -> list[ChunkData]:
        """Metadata of the chunks a work item needs, with the audio bytes of those
        in ``with_data`` (all of them when ``None``)."""
        book = self._book
        state = book.state(sid)
        out = []
        for seq in seqs:
            c = state.chunks[seq]
            info = {"seq": seq, "content_type": c.content_type, "offset_s": c.offset_s, "duration_s": c.duration_s}
            if with_data is None or seq in with_data:
                info["data"] = book.journal.get_blob(sid, f"chunk-{seq:08d}")
            out.append(info)
        return out

    def role_context(self, sid: str) -> dict[str, Any]:
        """The session's segments with their internal voice features, and its channel map."""
        state = self._book.state(sid)
        return {"segments": list(state.segments), "channels": state.channels}

    def batch_segments(self, sid: str, batch: int) -> list[dict[str, Any]]:
        """The raw (unmasked) segments of a posted text batch."""
        self._book.state(sid)
        return json.loads(self._book.journal.get_blob(sid, f"batch-{batch:08d}.json"))

    # -- commits ----------------------------------------------------------------
    def commit_chunk(self, sid: str, seq: int, offset_s: float, cursor: float,
                     segments: list[dict[str, Any]], names_delta: dict[str, str] | None,
                     failed: str | None = None, role_updates: dict[str, dict] | None = None,
                     tentative: dict[str, Any] | None = None) -> bool:
        """Record chunk ``seq`` as processed (or failed); False if already done.

        ``tentative`` (masked ``{"text", "words"}``, the words after ``cursor`` still waiting
        for audio) follows as a ``words_tentative`` event."""
        book = self._book
        state = book.get(sid)
        if state is None or state.next_seq != seq or seq not in state.chunks \
                or state.chunks[seq].status != "pending":
            return False
        book.save_names(sid, names_delta)
        if failed is not None:
            book.emit(sid, "chunk_failed", {"seq": seq, "offset_s": offset_s, "reason": failed})
        else:
            book.emit(sid, "chunk_processed", {"seq": seq, "offset_s": offset_s, "cursor": cursor,
                                               "segments": _numbered(state, segments),
                                               **_role_updates(state, role_updates)})
            if tentative is not None:
                book.emit(sid, "words_tentative", {"seq": seq, "cursor": cursor, "text": tentative["text"],
                                                   "words": tentative["words"]})
        return True

    def commit_chunks(self, sid: str, chunks: list[tuple[int, float]], cursor: float,
                      segments: list[dict[str, Any]], names_delta: dict[str, str] | None,
                      role_updates: dict[str, dict] | None = None, tentative: dict[str, Any] | None = None) -> bool:
        """Record consecutive chunks ``[(seq, offset_s), ...]`` decoded in one step as processed: every
        chunk but the last without segments (the cursor stays), the last with the step's result; False
        if the first is already done (a repeated step).  The whole step is checked before anything is written."""
        book = self._book
        state = book.get(sid)
        seqs = [seq for seq, _ in chunks]
        if state is None or not chunks or seqs != list(range(state.next_seq, state.next_seq + len(seqs))) \
                or any(seq not in state.chunks or state.chunks[seq].status != "pending" for seq in seqs):
            return False
        for seq, offset_s in chunks[:-1]:
            book.emit(sid, "chunk_processed", {"seq": seq, "offset_s": offset_s, "cursor": state.asr_cursor,
                                               "segments": []})
        seq, offset_s = chunks[-1]
        return self.commit_chunk(sid, seq, offset_s, cursor, segments, names_delta, None, role_updates, tentative)

    def commit_batch(self, sid: str, batch: int, segments: list[dict[str, Any]],
                     names_delta: dict[str, str] | None, role_updates: dict[str, dict] | None = None) -> bool:
        """Record text batch ``batch`` as masked and labelled; False if already done."""
        book = self._book
        state = book.get(sid)
        if state is None or batch not in state.batches or state.batches[batch].status != "pending":
            return False
        book.save_names(sid, names_delta)
        book.emit(sid, "batch_processed", {"batch": batch, "segments": _numbered(state, segments),
                                           **_role_updates(state, role_updates)})
        return True

    def commit_flush(self, sid: str, segments: list[dict[str, Any]], names_delta: dict[str, str] | None,
                     role_updates: dict[str, dict] | None = None) -> bool:
        """Record the final pass over the uncommitted audio tail; False if already done."""
        book = self._book
        state = book.get(sid)
        if state is None or state.flushed:
            return False
        book.save_names(sid, names_delta)
        book.emit(sid, "asr_flushed", {"segments": _numbered(state, segments), **_role_updates(state, role_updates)})
        return True

    def _due(self, sid: str, kind: str) -> SessionState | None:
        """``sid``'s state if its next step is ``kind`` (the fence of the steps below), else None."""
        state = self._book.get(sid)
        return state if state is not None and self._book.work(state).kind == kind else None

    def skip_missing(self, sid: str) -> bool:
        """Give up on the gap before the next received chunk (after finish and its grace period)."""
        if (state := self._due(sid, "skip_missing")) is None:
            return False
        target = min(s for s in state.chunks if s >= state.next_seq)
        self._book.emit(sid, "chunks_skipped", {"seqs": list(range(state.next_seq, target)), "next_seq": target})
        return True

    def note_failed(self, sid: str, basis: int, reason: str) -> bool:
        """Give up on the final note (after repeated failures); the last draft stays."""
        if self._due(sid, "final_note") is None:
            return False
        self._book.emit(sid, "note_failed", {"basis": basis, "reason": reason})
        return True

    def mark_finished(self, sid: str) -> bool:
        """The last step: the session is finished once nothing else is due."""
        if self._due(sid, "finish") is None:
            return False
        self._book.emit(sid, "finished", {})
        return True
