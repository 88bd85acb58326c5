"""Session store logic: ownership, ordering, idempotency, durability, events.

:class:`SessionStore` is plain Python (no Ray); ``deployments/session_store.py``
wraps it in a named Ray actor.  Every mutating call writes to the journal (and
fsyncs) before it returns, so an acknowledgement means the change is durable.
Calls from clients carry the clinician id and see another clinician's session
as absent (404).  Calls from the pipeline (``next_work``, ``commit_*``) are
idempotent: committing a step that was already committed changes nothing.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import time
from typing import Any, Callable

from serve_app.errors import Conflict, NotFound, Overloaded
from serve_app.sessions.model import PUBLIC_HIDDEN_FIELDS, SessionState, WorkItem, apply, next_work, public_segment

__all__ = ["SessionStore"]


def _public(event: dict[str, Any]) -> dict[str, Any]:
    data = {k: v for k, v in event.get("data", {}).items() if k not in PUBLIC_HIDDEN_FIELDS}
    if "segments" in data:
        data["segments"] = [public_segment(seg) for seg in data["segments"]]
    return {"id": event["id"], "type": event["type"], "ts": event["ts"], "data": data}


def _updates(state: SessionState, role_updates: dict[str, dict] | None) -> dict[str, Any]:
    """Role revisions worth recording: of existing segments whose role no one fixed since."""
    keep = {}
    for segment_id, update in (role_updates or {}).items():
        seg = state.segment(segment_id)
        if seg is not None and seg.get("role_source") in (None, "model"):
            keep[segment_id] = update
    return {"role_updates": keep} if keep else {}


class SessionStore:
    """All sessions of this store, rebuilt from the journal on construction.

    Args:
        journal: a :class:`~serve_app.sessions.disk_journal.DiskJournal` (or any
            object with the same methods).
        max_pending_chunks: back-pressure limit per session (503 beyond it).
        notes: sessions get notes (a final note is written before ``finished``).
        checks: notes get guardrail checks (the final note's are done before ``finished``).
        clock: seconds since the epoch (injectable for tests).
    """

    def __init__(self, journal, max_pending_chunks: int = 64, finish_grace_s: float = 20.0,
                 clock: Callable[[], float] = time.time, notes: bool = True, checks: bool = False):
        self._journal = journal
        self._notes = notes
        self._checks = checks
        self._max_pending = max_pending_chunks
        self._grace = finish_grace_s
        self._clock = clock
        self._sessions: dict[str, SessionState] = {}
        self._events: dict[str, list[dict[str, Any]]] = {}
        self._names: dict[str, dict[str, str]] = {}
        self._changed: dict[str, asyncio.Event] = {}
        for sid in journal.session_ids():
            events = journal.load_events(sid)
            if not events:
                continue
            state = SessionState(sid)
            for event in events:
                apply(state, event)
            self._sessions[sid] = state
            self._events[sid] = events

    # -- internals -------------------------------------------------------
    def _work(self, state: SessionState, now: float | None = None) -> WorkItem:
        return next_work(state, self._clock() if now is None else now, self._grace, self._notes, self._checks)

    def _emit(self, sid: str, kind: str, data: dict[str, Any]) -> dict[str, Any]:
        state = self._sessions[sid]
        event = {"id": state.last_event_id + 1, "type": kind, "ts": self._clock(), "data": data}
        self._journal.append(sid, event)
        apply(state, event)
        self._events[sid].append(event)
        signal = self._changed.pop(sid, None)
        if signal is not None:
            signal.set()
        return event

    def _owned(self, owner: str, sid: str) -> SessionState:
        state = self._sessions.get(sid)
        if state is None or not secrets.compare_digest(state.owner, owner):
            raise NotFound("No such session.", code="session_not_found")
        return state

    def _state(self, sid: str) -> SessionState:
        state = self._sessions.get(sid)
        if state is None:
            raise NotFound("No such session.", code="session_not_found")
        return state

    def _next_segment_ids(self, state: SessionState, segments: list[dict[str, Any]]) -> list[dict[str, Any]]:
        base = len(state.segments)
        return [{**seg, "id": f"s{base + i}"} for i, seg in enumerate(segments)]

    def _save_names(self, sid: str, delta: dict[str, str] | None) -> None:
        if not delta:
            return
        names = self.names(sid)
        names.update(delta)
        self._journal.save_names(sid, names)

    # -- client calls ------------------------------------------------------
    def create_session(self, owner: str, channels: dict[str, str] | None = None,
                       idempotency_key: str | None = None) -> dict[str, Any]:
        if idempotency_key:
            for state in self._sessions.values():
                if state.owner == owner and idempotency_key in state.idempotency:
                    return {"session_id": state.session_id, "replayed": True}
        sid = secrets.token_urlsafe(18)
        self._sessions[sid] = SessionState(sid)
        self._events[sid] = []
        self._emit(sid, "session_created",
                   {"owner": owner, "channels": channels, "idempotency_key": idempotency_key})
        return {"session_id": sid, "replayed": False}

    def session_exists(self, owner: str, sid: str) -> bool:
        """True if ``owner`` has session ``sid``; raises 404 otherwise."""
        self._owned(owner, sid)
        return True

    def list_sessions(self, owner: str) -> list[dict[str, Any]]:
        mine = [s for s in self._sessions.values() if s.owner == owner]
        mine.sort(key=lambda s: s.created_at, reverse=True)
        return [
            {"session_id": s.session_id, "status": s.status, "created_at": s.created_at,
             "updated_at": s.updated_at, "segments": len(s.segments)}
            for s in mine
        ]

    def put_chunk(self, owner: str, sid: str, seq: int, data: bytes, content_type: str,
                  duration_s: float, channels: int) -> dict[str, Any]:
        """Store chunk ``seq`` durably; a repeat with the same bytes is a no-op."""
        state = self._owned(owner, sid)
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
        if state.pending_chunks() >= self._max_pending:
            raise Overloaded("Too many chunks are waiting to be processed; retry shortly.",
                             code="backlog_full", retry_after=2)
        self._journal.put_blob(sid, f"chunk-{seq:08d}", data)
        self._emit(sid, "chunk_received", {"seq": seq, "sha256": digest, "size": len(data),
                                          "content_type": content_type, "duration_s": duration_s,
                                          "channels": channels})
        return {"seq": seq, "duplicate": False}

    def add_segments(self, owner: str, sid: str, segments: list[dict[str, Any]],
                     idempotency_key: str | None = None) -> dict[str, Any]:
        """Store a batch of raw text segments durably (masked later by the pipeline)."""
        state = self._owned(owner, sid)
        if idempotency_key and idempotency_key in state.idempotency:
            return {**state.idempotency[idempotency_key], "replayed": True}
        if state.finish_requested_at is not None:
            raise Conflict("The session is finished; it takes no more segments.", code="session_finished")
        batch = len(state.batches)
        self._journal.put_blob(sid, f"batch-{batch:08d}.json", json.dumps(segments).encode())
        self._emit(sid, "batch_received",
                   {"batch": batch, "count": len(segments), "idempotency_key": idempotency_key})
        return {"batch": batch, "accepted": len(segments), "replayed": False}

    def request_finish(self, owner: str, sid: str) -> dict[str, Any]:
        state = self._owned(owner, sid)
        if state.finish_requested_at is None:
            self._emit(sid, "finish_requested", {})
        return {"status": state.status}

    def get_state(self, owner: str, sid: str) -> dict[str, Any]:
        """The session as API.md's state document."""
        s = self._owned(owner, sid)
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

    def correct_role(self, owner: str, sid: str, segment_id: str, role: str) -> dict[str, Any]:
        """A clinician's role for one segment (kept over any inference; the note follows)."""
        state = self._owned(owner, sid)
        seg = state.segment(segment_id)
        if seg is None:
            raise NotFound("No such segment in this session.", code="segment_not_found")
        if seg.get("role") != role or seg.get("role_source") != "clinician":
            self._emit(sid, "role_corrected", {"segment": segment_id, "role": role})
        return public_segment(state.segment(segment_id))

    def get_names(self, owner: str, sid: str) -> dict[str, str]:
        self._owned(owner, sid)
        return dict(self.names(sid))

    def delete_session(self, owner: str, sid: str) -> None:
        self._owned(owner, sid)
        self._journal.delete(sid)
        self._sessions.pop(sid, None)
        self._events.pop(sid, None)
        self._names.pop(sid, None)
        signal = self._changed.pop(sid, None)
        if signal is not None:
            signal.set()

    async def wait_events(self, owner: str, sid: str, after: int, timeout_s: float) -> dict[str, Any]:
        """Events with id > ``after``, waiting up to ``timeout_s`` for the first one.

        Returns ``{"events": [...], "finished": bool}``; ``finished`` is true once
        the session has finished and every event up to it has been returned.
        """
        state = self._owned(owner, sid)
        if state.last_event_id <= after and not state.finished:
            signal = self._changed.setdefault(sid, asyncio.Event())
            try:
                await asyncio.wait_for(signal.wait(), timeout_s)
            except asyncio.TimeoutError:
                pass
            if sid not in self._sessions:
                raise NotFound("No such session.", code="session_not_found")
        events = [_public(e) for e in self._events[sid] if e["id"] > after]
        done = state.finished and (not events or events[-1]["id"] == state.last_event_id)
        return {"events": events, "finished": done}

    # -- pipeline calls ----------------------------------------------------
    def names(self, sid: str) -> dict[str, str]:
        if sid not in self._names:
            self._names[sid] = self._journal.load_names(sid)
        return self._names[sid]

    def sessions_with_work(self) -> list[str]:
        now = self._clock()
        return [sid for sid, s in self._sessions.items()
                if not s.finished and self._work(s, now).kind != "idle"]

    def next_work(self, sid: str) -> WorkItem:
        state = self._sessions.get(sid)
        if state is None:
            return WorkItem("idle")
        return self._work(state)

    def chunk_info(self, sid: str, seqs: list[int], with_data: list[int] | None = None) -> list[dict[str, Any]]:
        """Metadata of the chunks a work item needs, with the audio bytes of those
        in ``with_data`` (all of them when ``None``)."""
        state = self._state(sid)
        out = []
        for seq in seqs:
            c = state.chunks[seq]
            info = {"seq": seq, "content_type": c.content_type, "offset_s": c.offset_s, "duration_s": c.duration_s}
            if with_data is None or seq in with_data:
                info["data"] = self._journal.get_blob(sid, f"chunk-{seq:08d}")
            out.append(info)
        return out

    def role_context(self, sid: str) -> dict[str, Any]:
        """The session's segments with their internal voice features, and its channel map."""
        state = self._state(sid)
        return {"segments": list(state.segments), "channels": state.channels}

    def batch_segments(self, sid: str, batch: int) -> list[dict[str, Any]]:
        self._state(sid)
        return json.loads(self._journal.get_blob(sid, f"batch-{batch:08d}.json"))

    def commit_chunk(self, sid: str, seq: int, offset_s: float, cursor: float,
                     segments: list[dict[str, Any]], names_delta: dict[str, str] | None,
                     failed: str | None = None, role_updates: dict[str, dict] | None = None) -> bool:
        """Record chunk ``seq`` as processed (or failed); False if already done."""
        state = self._sessions.get(sid)
        if state is None or state.next_seq != seq or seq not in state.chunks \
                or state.chunks[seq].status != "pending":
            return False
        self._save_names(sid, names_delta)
        if failed is not None:
            self._emit(sid, "chunk_failed", {"seq": seq, "offset_s": offset_s, "reason": failed})
        else:
            self._emit(sid, "chunk_processed", {"seq": seq, "offset_s": offset_s, "cursor": cursor,
                                               "segments": self._next_segment_ids(state, segments),
                                               **_updates(state, role_updates)})
        return True

    def commit_batch(self, sid: str, batch: int, segments: list[dict[str, Any]],
                     names_delta: dict[str, str] | None, role_updates: dict[str, dict] | None = None) -> bool:
        state = self._sessions.get(sid)
        if state is None or batch not in state.batches or state.batches[batch].status != "pending":
            return False
        self._save_names(sid, names_delta)
        self._emit(sid, "batch_processed", {"batch": batch, "segments": self._next_segment_ids(state, segments),
                                            **_updates(state, role_updates)})
        return True

    def commit_flush(self, sid: str, segments: list[dict[str, Any]], names_delta: dict[str, str] | None,
                     role_updates: dict[str, dict] | None = None) -> bool:
        state = self._sessions.get(sid)
        if state is None or state.flushed:
            return False
        self._save_names(sid, names_delta)
        self._emit(sid, "asr_flushed", {"segments": self._next_segment_ids(state, segments),
                                        **_updates(state, role_updates)})
        return True

    def skip_missing(self, sid: str) -> bool:
        state = self._sessions.get(sid)
        if state is None or self._work(state).kind != "skip_missing":
            return False
        later = [s for s in state.chunks if s >= state.next_seq]
        target = min(later)
        self._emit(sid, "chunks_skipped", {"seqs": list(range(state.next_seq, target)), "next_seq": target})
        return True

    def mark_finished(self, sid: str) -> bool:
        state = self._sessions.get(sid)
        if state is None or self._work(state).kind != "finish":
            return False
        self._emit(sid, "finished", {})
        return True

    # -- notes -------------------------------------------------------------
    def sessions_needing_notes(self) -> list[str]:
        """Sessions whose note lags behind their transcript: recording, or finished and corrected."""
        if not self._notes:
            return []
        return [sid for sid, s in self._sessions.items() if s.note_stale()]

    def note_inputs(self, sid: str) -> dict[str, Any]:
        """What the next note is written from: the masked segments at input revision ``basis``."""
        state = self._state(sid)
        return {
            "basis": state.input_revision,
            "note_basis": state.note_basis,
            "note_final": state.note_final,
            "finish_requested": state.finish_requested_at is not None,
            "finished": state.finished,
            "segments": [{"id": seg["id"], "text": seg["text"], "role": seg.get("role")} for seg in state.segments],
        }

    def commit_note(self, sid: str, basis: int, note: dict[str, Any], final: bool,
                    stats: dict[str, Any] | None = None) -> bool:
        """Record a note written from input revision ``basis`` as the next ``note_version``.

        Fenced: a draft is taken only while recording and if it is newer than the
        current note; the final note only when the session is waiting for it
        with that very basis, or, once finished, if it is newer (a role
        correction).  False when the commit is stale (nothing changes).
        """
        state = self._sessions.get(sid)
        if state is None:
            return False
        if state.finished:  # a correction after finish: a newer final note replaces the last one
            if not final or basis <= state.note_basis:
                return False
        elif final:
            item = self._work(state)
            if item.kind != "final_note" or item.basis != basis:
                return False
        elif state.finish_requested_at is not None or basis <= state.note_basis:
            return False
        self._emit(sid, "note_updated", {"version": state.note_version + 1, "basis": basis, "final": final,
                                         "note": note, "stats": stats or {}})
        return True

    # -- guardrail checks ----------------------------------------------------
    def sessions_needing_checks(self) -> list[str]:
        """Sessions whose current note has not been checked (drafts; final notes go through next_work)."""
        if not self._checks:
            return []
        return [sid for sid, s in self._sessions.items() if s.checks_stale()]

    def check_inputs(self, sid: str) -> dict[str, Any]:
        """The current note, its version, whether it was checked, and the masked segments."""
        state = self._state(sid)
        return {"note_version": state.note_version, "note": state.note, "checked": not state.checks_stale(),
                "segments": [{"id": seg["id"], "text": seg["text"]} for seg in state.segments]}

    def commit_warnings(self, sid: str, note_version: int, warnings: list[dict[str, Any]]) -> bool:
        """Record the warnings of note ``note_version``; False if that note is no longer current."""
        state = self._sessions.get(sid)
        if state is None or note_version != state.note_version or note_version <= state.warnings_version:
            return False
        self._emit(sid, "warnings_updated", {"note_version": note_version, "warnings": warnings})
        return True

    # -- feedback ------------------------------------------------------------
    def feedback_replay(self, owner: str, sid: str, idempotency_key: str | None) -> dict[str, Any] | None:
        """The answer a feedback with this ``Idempotency-Key`` already got, if any."""
        state = self._owned(owner, sid)
        if idempotency_key and "feedback_id" in state.idempotency.get(idempotency_key, {}):
            return dict(state.idempotency[idempotency_key])
        return None

    def feedback_context(self, owner: str, sid: str, note_version: int) -> dict[str, Any]:
        """What a feedback on note ``note_version`` is recorded with: that note, the masked transcript, names."""
        state = self._owned(owner, sid)
        note = next((e["data"] for e in reversed(self._events[sid])
                     if e["type"] == "note_updated" and e["data"]["version"] == note_version), None)
        if note is None:
            raise Conflict(f"This session has no note version {note_version}.", code="unknown_note_version")
        return {"note": note["note"], "note_source": note.get("source", "model"),
                "segments": [{"id": s["id"], "text": s["text"], "role": s.get("role")} for s in state.segments],
                "names": dict(self.names(sid))}

    def record_feedback(self, owner: str, sid: str, feedback_id: str, action: str, note_version: int,
                        final_note: dict[str, Any] | None, idempotency_key: str | None,
                        names_delta: dict[str, str] | None) -> dict[str, Any]:
        """Record a durable feedback; an accepted or edited note becomes the final note (version + 1)."""
        state = self._owned(owner, sid)
        if feedback_id in state.feedback_ids:
            return {"feedback_id": feedback_id, "replayed": True}
        self._save_names(sid, names_delta)
        accepted_current = action == "accept" and note_version == state.note_version
        if action in ("accept", "edit") and final_note is not None and not accepted_current:
            self._emit(sid, "note_updated", {"version": state.note_version + 1, "basis": state.input_revision,
                                             "final": True, "note": final_note, "source": "clinician",
                                             "stats": {"judged_version": note_version, "action": action}})
        self._emit(sid, "feedback_recorded", {"feedback_id": feedback_id, "action": action,
                                              "note_version": note_version, "idempotency_key": idempotency_key})
        return {"feedback_id": feedback_id, "replayed": False}

    def note_failed(self, sid: str, basis: int, reason: str) -> bool:
        """Give up on the final note (after repeated failures); the last draft stays."""
        state = self._sessions.get(sid)
        if state is None or self._work(state).kind != "final_note":
            return False
        self._emit(sid, "note_failed", {"basis": basis, "reason": reason})
        return True
