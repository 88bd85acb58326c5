"""Calls made on behalf of a clinician (through the ingress): every one is owner-scoped,
so another clinician's session is absent (404)."""
from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any

from serve_app.contracts import EventBatch, SessionStateDoc, SessionSummaryDoc
from serve_app.errors import Conflict, NotFound, Overloaded, PayloadTooLarge, TooManyRequests, ValidationFailed
from serve_app.sessions.book import SessionBook
from serve_app.sessions.idempotency import replay
from serve_app.sessions.views import public_event, public_segment, state_doc

__all__ = ["ClientApi"]


class ClientApi:
    """Create, feed, read, correct, finish and delete sessions."""

    def __init__(self, book: SessionBook):
        self._book = book

    def create_session(self, owner: str, channels: dict[str, str] | None = None,
                       idempotency_key: str | None = None, fingerprint: str | None = None,
                       request_id: str | None = None) -> dict[str, Any]:
        """A new session owned by ``owner``.  The owner's earlier create with the same
        ``idempotency_key`` (and ``fingerprint`` of its body; 422 if it differs), or a Ray retry of
        the same ``request_id``, returns the first session instead (see :mod:`.idempotency`)."""
        book = self._book
        first = book.created_by(owner, idempotency_key, fingerprint, request_id)
        if first is not None:
            return {**first, "replayed": True}
        book.check_room()
        if book.open_sessions_of(owner) >= book.spec.max_open_sessions:
            raise TooManyRequests(f"You have {book.spec.max_open_sessions} unfinished sessions; finish or delete one "
                                  "first.", code="session_quota", retry_after=60)
        sid = secrets.token_urlsafe(18)
        book.create(sid, {"owner": owner, "channels": channels, "idempotency_key": idempotency_key,
                          "fingerprint": fingerprint, "request_id": request_id})
        return {"session_id": sid, "replayed": False}

    def session_exists(self, owner: str, sid: str) -> bool:
        """True if ``owner`` has session ``sid``; raises 404 otherwise."""
        self._book.owned(owner, sid)
        return True

    def list_sessions(self, owner: str) -> list[SessionSummaryDoc]:
        """The owner's sessions, newest first (from the catalog: finished sessions are not loaded)."""
        rows = sorted(self._book.rows_of(owner), key=lambda r: r["created_at"], reverse=True)
        return [{k: r[k] for k in SessionSummaryDoc.__annotations__} for r in rows]

    def put_chunk(self, owner: str, sid: str, seq: int, data: bytes, content_type: str,
                  duration_s: float, channels: int) -> dict[str, Any]:
        """Store chunk ``seq`` durably; a repeat with the same bytes is a no-op, other bytes 409."""
        book = self._book
        state = book.owned(owner, sid)
        digest = hashlib.sha256(data).hexdigest()
        known = state.chunks.get(seq)
        if known is not None:
            if known.sha256 == digest:
                return {"seq": seq, "duplicate": True}
            raise Conflict(f"Chunk {seq} was already stored with different content.", code="chunk_conflict")
        if state.finish_requested_at is not None:
            raise Conflict("The session is finished; it takes no more audio.", code="session_finished")
        if seq in state.skipped or seq < state.next_seq:
            raise Conflict(f"Chunk {seq} was given up on after finish.", code="chunk_too_late")
        highest = max(max(state.chunks, default=-1), state.next_seq - 1)
        if seq > highest + book.spec.max_seq_ahead:
            raise ValidationFailed(f"Chunk {seq} is more than {book.spec.max_seq_ahead} beyond the highest received "
                                   f"({highest}); send chunks in order, from 0.", code="seq_out_of_range")
        if state.pending_chunks() >= book.spec.max_pending_chunks:
            raise Overloaded("Too many chunks are waiting to be processed; retry shortly.",
                             code="backlog_full", retry_after=2)
        book.check_room()
        book.check_bytes(owner, len(data))
        book.journal.put_blob(sid, f"chunk-{seq:08d}", data)
        book.emit(sid, "chunk_received", {"seq": seq, "sha256": digest, "size": len(data),
                                          "content_type": content_type, "duration_s": duration_s,
                                          "channels": channels})
        return {"seq": seq, "duplicate": False}

    def add_segments(self, owner: str, sid: str, segments: list[dict[str, Any]],
                     idempotency_key: str | None = None, fingerprint: str | None = None,
                     request_id: str | None = None) -> dict[str, Any]:
        """Store a batch of raw text segments durably (masked later by the pipeline); a repeated
        key (same body) or a retried ``request_id`` returns the first batch."""
        book = self._book
        state = book.owned(owner, sid)
        if request_id and request_id in state.requests:
            return {**state.requests[request_id], "replayed": True}
        first = replay(state.idempotency, "segments", idempotency_key, fingerprint, book.clock())
        if first is not None:
            return {**first, "replayed": True}
        if state.finish_requested_at is not None:
            raise Conflict("The session is finished; it takes no more segments.", code="session_finished")
        if sum(b.count for b in state.batches.values()) + len(segments) > book.spec.max_segments:
            raise PayloadTooLarge(f"A session holds at most {book.spec.max_segments} posted segments.",
                                  code="session_too_large")
        book.check_room()
        raw = json.dumps(segments).encode()
        book.check_bytes(owner, len(raw))
        batch = len(state.batches)
        book.journal.put_blob(sid, f"batch-{batch:08d}.json", raw)
        book.emit(sid, "batch_received", {"batch": batch, "count": len(segments), "bytes": len(raw),
                                          "idempotency_key": idempotency_key, "fingerprint": fingerprint,
                                          "request_id": request_id})
        return {"batch": batch, "accepted": len(segments), "replayed": False}

    def request_finish(self, owner: str, sid: str) -> dict[str, Any]:
        """Ask the session to drain its chunks, write its final note and finish."""
        state = self._book.owned(owner, sid)
        if state.finish_requested_at is None:
            self._book.emit(sid, "finish_requested", {})
        return {"status": state.status}

    def get_state(self, owner: str, sid: str) -> SessionStateDoc:
        """The session as API.md's state document."""
        return state_doc(self._book.owned(owner, sid))

    def get_state_json(self, owner: str, sid: str) -> tuple[int, bytes]:
        """``(version, body)``: :meth:`get_state` as the JSON bytes the API returns (rendered once per
        change) and the session's version, its last event id, which every change raises."""
        state = self._book.owned(owner, sid)
        return state.last_event_id, self._book.rendered(sid)

    async def wait_version(self, owner: str, sid: str, version: int, timeout_s: float) -> int:
        """The session's version once it is past ``version``, or after ``timeout_s`` whatever it is
        (a finished session too: unlike :meth:`wait_events` this always waits); 404 once deleted."""
        if self._book.owned(owner, sid).last_event_id <= version:
            await self._book.wait_change(sid, timeout_s)
        return self._book.owned(owner, sid).last_event_id

    def correct_role(self, owner: str, sid: str, segment_id: str, role: str) -> dict[str, Any]:
        """A clinician's role for one segment (kept over any inference; the note follows)."""
        state = self._book.owned(owner, sid)
        seg = state.segment(segment_id)
        if seg is None:
            raise NotFound("No such segment in this session.", code="segment_not_found")
        if seg.get("role") != role or seg.get("role_source") != "clinician":
            self._book.emit(sid, "role_corrected", {"segment": segment_id, "role": role})
        return public_segment(state.segment(segment_id))

    def get_names(self, owner: str, sid: str) -> dict[str, str]:
        """The placeholder -> real value map (the owner's view only; never logged)."""
        self._book.owned(owner, sid)
        return dict(self._book.names(sid))

    def delete_session(self, owner: str, sid: str) -> None:
        """Erase the session (events, audio, names); its open streams end."""
        self._book.owned(owner, sid)
        self._book.forget(sid)

    async def wait_events(self, owner: str, sid: str, after: int, timeout_s: float) -> EventBatch:
        """Events with id > ``after``, waiting up to ``timeout_s`` for the first one.

        Returns ``{"events": [...], "finished": bool}``; ``finished`` is true once
        the session has finished and every event up to it has been returned.
        """
        book = self._book
        state = book.owned(owner, sid)
        if state.last_event_id <= after and not state.finished:
            await book.wait_change(sid, timeout_s)
            if book.get(sid) is None:
                raise NotFound("No such session.", code="session_not_found")
        events = [public_event(e) for e in book.events_of(sid) if e["id"] > after]
        done = state.finished and (not events or events[-1]["id"] == state.last_event_id)
        return {"events": events, "finished": done}
