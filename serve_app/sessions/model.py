"""The session as a fold over its events (no I/O, no Ray).

Every change to a session is an event with an increasing ``id``; the state is
``reduce(apply, events)``.  The same events are the durable journal, the
``GET .../events`` stream and the replay after a restart, so what a client saw
and what survives a crash can never disagree.

Chunks are applied strictly in ``seq`` order: ``next_seq`` is the first chunk
not yet processed; a chunk above it waits.  :func:`next_work` tells the
pipeline what to do next.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from serve_app.sessions.idempotency import remember

_SEGMENT_ID = re.compile(r"s[0-9]{1,9}", re.ASCII)

__all__ = ["ChunkInfo", "SessionState", "WorkItem", "WorkKind", "apply", "fold", "next_work"]

WorkKind = Literal["batch", "chunk", "flush", "skip_missing", "final_note", "final_checks", "finish", "wait",
                   "idle", "gone"]


@dataclass
class ChunkInfo:
    seq: int
    sha256: str
    size: int
    content_type: str
    duration_s: float
    channels: int
    status: Literal["pending", "processed", "failed"] = "pending"
    offset_s: float | None = None


@dataclass
class BatchInfo:
    batch: int
    count: int
    status: Literal["pending", "processed"] = "pending"


@dataclass
class SessionState:
    session_id: str
    owner: str = ""
    created_at: float = 0.0
    updated_at: float = 0.0
    channels: dict[str, str] | None = None
    chunks: dict[int, ChunkInfo] = field(default_factory=dict)
    batches: dict[int, BatchInfo] = field(default_factory=dict)
    next_seq: int = 0
    audio_end: float = 0.0
    asr_cursor: float = 0.0
    flushed: bool = False
    skipped: list[int] = field(default_factory=list)
    segments: list[dict[str, Any]] = field(default_factory=list)
    finish_requested_at: float | None = None
    finished: bool = False
    idempotency: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # (route, key) -> record
    requests: dict[str, dict[str, Any]] = field(default_factory=dict)  # request id -> first answer (Ray retries)
    last_event_id: int = 0
    #: bumped by every change the note depends on (new segments, role corrections)
    input_revision: int = 0
    note_version: int = 0
    note: dict[str, Any] | None = None
    note_basis: int = 0
    note_final: bool = False
    note_error: str | None = None
    #: guardrail warnings of note version ``warnings_version``
    warnings: list[dict[str, Any]] = field(default_factory=list)
    warnings_version: int = 0
    #: a clinician accepted or edited a note: it is the final note, no model note replaces it
    clinician_final: bool = False
    feedback_ids: list[str] = field(default_factory=list)
    #: bytes of audio and raw text the clinician uploaded (the per-clinician quota counts them)
    stored_bytes: int = 0

    @property
    def status(self) -> str:
        if self.finished:
            return "finished"
        return "processing" if self.finish_requested_at is not None else "recording"

    def missing(self) -> list[int]:
        """Sequence numbers below the highest received that have not arrived."""
        if not self.chunks:
            return []
        skipped, out, expected = set(self.skipped), [], 0
        for seq in sorted(self.chunks):  # gaps between received chunks only: O(chunks + gaps)
            out.extend(s for s in range(expected, seq) if s not in skipped)
            expected = seq + 1
        return out

    def pending_chunks(self) -> int:
        return sum(1 for c in self.chunks.values() if c.status == "pending")

    def note_stale(self) -> bool:
        """True if the note lags behind the transcript and the note updater should act:
        a draft while recording, or a new final note after a correction to a finished session."""
        return (bool(self.segments) and self.note_basis < self.input_revision and not self.clinician_final
                and (self.finished or self.finish_requested_at is None))

    def checks_stale(self) -> bool:
        """True if the current note has not been checked yet."""
        return self.note is not None and self.warnings_version < self.note_version

    def segment(self, segment_id: str) -> dict[str, Any] | None:
        if _SEGMENT_ID.fullmatch(segment_id):  # ASCII digits, bounded: "s²" or 5,000 digits are absent
            i = int(segment_id[1:])
            if i < len(self.segments) and self.segments[i]["id"] == segment_id:
                return self.segments[i]
        return None


@dataclass(frozen=True)
class WorkItem:
    """What the pipeline should do next for a session.

    kinds: ``batch`` (mask a text batch), ``chunk`` (transcribe chunk ``seq``
    with the tail from ``cursor``), ``flush`` (final pass over the tail),
    ``skip_missing`` (give up on gaps after finish), ``final_note`` (write the
    finished note from input revision ``basis``), ``final_checks`` (check note
    version ``note_version``), ``finish``, ``wait`` (a gap within the grace period), ``idle``,
    ``gone`` (no such session: erased).
    ``tail_seqs`` are the processed chunks that hold the uncommitted tail and
    ``context_s`` seconds of committed audio before ``cursor`` (ASR context);
    ``more_seqs`` the received chunks right after ``seq`` decoded in the same step
    (a session that fell behind catches up).
    """

    kind: WorkKind
    seq: int | None = None
    batch: int | None = None
    cursor: float = 0.0
    offset: float = 0.0
    tail_seqs: tuple[int, ...] = ()
    more_seqs: tuple[int, ...] = ()
    basis: int = 0
    note_version: int = 0


def _tail_seqs(state: SessionState, cursor: float, context_s: float) -> tuple[int, ...]:
    cursor = max(0.0, cursor - context_s)
    return tuple(
        c.seq for c in sorted(state.chunks.values(), key=lambda c: c.seq)
        if c.status == "processed" and c.offset_s is not None and c.offset_s + c.duration_s > cursor + 1e-6
    )


def _more_seqs(state: SessionState, first: ChunkInfo, max_step_s: float) -> tuple[int, ...]:
    """Received chunks right after ``first`` that fit in one step with it (``max_step_s`` of audio)."""
    more, total = [], first.duration_s
    while (nxt := state.chunks.get(first.seq + 1 + len(more))) is not None and nxt.status == "pending" \
            and total + nxt.duration_s <= max_step_s + 1e-6:
        more.append(nxt.seq)
        total += nxt.duration_s
    return tuple(more)


def next_work(state: SessionState, now: float, finish_grace_s: float = 20.0, notes: bool = True,
              checks: bool = False, context_s: float = 3.0, max_step_s: float = 0.0) -> WorkItem:
    """The next step for ``state`` at time ``now`` (see :class:`WorkItem`).

    With ``notes`` the session finishes only after a final note written from
    its last input revision (or a recorded failure to write one); with
    ``checks`` also only after that note's guardrail checks.  Audio work items
    carry the chunks of ``context_s`` seconds of committed audio before the cursor
    (``asr.context_s``: the one place that decides it), and the waiting chunks after the
    next one, up to ``max_step_s`` seconds of new audio in all (``asr.max_step_s``)."""
    if state.finished:
        return WorkItem("idle")
    for batch in sorted(state.batches.values(), key=lambda b: b.batch):
        if batch.status == "pending":
            return WorkItem("batch", batch=batch.batch)
    chunk = state.chunks.get(state.next_seq)
    if chunk is not None and chunk.status == "pending":
        return WorkItem(
            "chunk", seq=chunk.seq, cursor=state.asr_cursor, offset=state.audio_end,
            tail_seqs=_tail_seqs(state, state.asr_cursor, context_s), more_seqs=_more_seqs(state, chunk, max_step_s),
        )
    if state.finish_requested_at is None:
        return WorkItem("idle")
    if any(s >= state.next_seq for s in state.chunks):
        if now - state.finish_requested_at < finish_grace_s:
            return WorkItem("wait")
        return WorkItem("skip_missing")
    if not state.flushed and state.audio_end > state.asr_cursor + 1e-6:
        return WorkItem("flush", cursor=state.asr_cursor, tail_seqs=_tail_seqs(state, state.asr_cursor, context_s))
    if notes and state.segments and not state.clinician_final \
            and (not state.note_final or state.note_basis < state.input_revision):
        return WorkItem("final_note", basis=state.input_revision)
    if checks and state.checks_stale():
        return WorkItem("final_checks", note_version=state.note_version)
    return WorkItem("finish")


def _add_segments(state: SessionState, segments: list[dict[str, Any]],
                  role_updates: dict[str, dict[str, Any]] | None = None) -> None:
    """New segments and revised roles of earlier ones: one new input revision."""
    for segment_id, update in (role_updates or {}).items():
        seg = state.segment(segment_id)
        if seg is not None:  # replaced, not mutated: the event that added it stays as it was
            state.segments[int(segment_id[1:])] = {**seg, **update}
    if segments or role_updates:
        state.segments.extend(dict(seg) for seg in segments)
        state.input_revision += 1


def _remember(state: SessionState, route: str, event: dict[str, Any], answer: dict[str, Any]) -> None:
    """Keep the answer under the event's ``Idempotency-Key`` (per route) and its request id."""
    data, ts = event.get("data", {}), event.get("ts", 0.0)
    remember(state.idempotency, route, data.get("idempotency_key"), data.get("fingerprint"), answer, ts)
    if data.get("request_id"):
        state.requests[data["request_id"]] = answer


def apply(state: SessionState, event: dict[str, Any]) -> SessionState:
    """Apply one event to ``state`` (in place) and return it."""
    kind, data = event["type"], event.get("data", {})
    state.last_event_id = event["id"]
    state.updated_at = event.get("ts", state.updated_at)
    if kind == "session_created":
        state.owner = data["owner"]
        state.created_at = event.get("ts", 0.0)
        state.channels = data.get("channels")
        _remember(state, "create", event, {"session_id": state.session_id})
    elif kind == "chunk_received":
        state.chunks[data["seq"]] = ChunkInfo(
            data["seq"], data["sha256"], data["size"], data["content_type"], data["duration_s"], data["channels"]
        )
        state.stored_bytes += data["size"]
    elif kind in ("chunk_processed", "chunk_failed"):
        chunk = state.chunks[data["seq"]]
        chunk.status = "processed" if kind == "chunk_processed" else "failed"
        chunk.offset_s = data["offset_s"]
        state.audio_end = data["offset_s"] + chunk.duration_s
        state.asr_cursor = data.get("cursor", state.audio_end)
        state.next_seq = data["seq"] + 1
        _add_segments(state, data.get("segments", []), data.get("role_updates"))
    elif kind == "batch_received":
        state.batches[data["batch"]] = BatchInfo(data["batch"], data["count"])
        state.stored_bytes += data.get("bytes", 0)
        _remember(state, "segments", event, {"batch": data["batch"], "accepted": data["count"]})
    elif kind == "batch_processed":
        state.batches[data["batch"]].status = "processed"
        _add_segments(state, data.get("segments", []), data.get("role_updates"))
    elif kind == "finish_requested":
        state.finish_requested_at = event.get("ts", 0.0)
    elif kind == "chunks_skipped":
        state.skipped.extend(data["seqs"])
        state.next_seq = data["next_seq"]
    elif kind == "asr_flushed":
        state.flushed = True
        state.asr_cursor = state.audio_end
        _add_segments(state, data.get("segments", []), data.get("role_updates"))
    elif kind == "role_corrected":
        _add_segments(state, [], {data["segment"]: {"role": data["role"], "role_confidence": 1.0,
                                                    "role_uncertain": False, "role_source": "clinician"}})
    elif kind == "note_updated":
        state.note = data["note"]
        state.note_version = data["version"]
        state.note_basis = data["basis"]
        state.note_final = data.get("final", False)
        state.note_error = None
    elif kind == "note_failed":
        state.note_basis = data["basis"]
        state.note_final = True
        state.note_error = data.get("reason")
    elif kind == "warnings_updated":
        state.warnings = data["warnings"]
        state.warnings_version = data["note_version"]
    elif kind == "feedback_recorded":
        state.feedback_ids.append(data["feedback_id"])
        _remember(state, "feedback", event, {"feedback_id": data["feedback_id"]})
        if data["action"] in ("accept", "edit"):
            state.clinician_final = True
    elif kind == "finished":
        state.finished = True
    return state


def fold(session_id: str, events: list[dict[str, Any]]) -> SessionState:
    """The state of session ``session_id`` after ``events`` (in order)."""
    state = SessionState(session_id)
    for event in events:
        apply(state, event)
    return state
