"""The serving object behind the routes: validation, decoding, store calls, kicks.

Routes in :mod:`serve_app.ingress.routes` stay thin; everything they do goes through
:class:`ScribeService`, which needs no HTTP types and is unit-testable with a
local store and fake pipeline.
"""
from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any, Awaitable, Callable

from pydantic import ValidationError

from serve_app.audit import AuditLog
from serve_app.config import ExportConfig, LimitsConfig
from serve_app.contracts import SessionStateDoc, SessionSummaryDoc
from serve_app.engines.audio_sandbox import DecoderSandbox
from serve_app.errors import BadRequest, Conflict, NotFound, NotReady, PayloadTooLarge, ValidationFailed
from serve_app.ingress.coalesce import Coalescer
from serve_app.ingress.erasure import Eraser
from serve_app.ingress.export import note_as_fhir, note_as_text
from serve_app.ingress.feedback import FeedbackRecorder
from serve_app.ingress.ownership import OwnedSessions
from serve_app.ingress.schemas import CreateSessionRequest, FeedbackRequest, RoleCorrection, SegmentsRequest
from serve_app.ingress.snapshots import StateSnapshots
from serve_app.sessions.client import StoreClient
from serve_app.sessions.idempotency import check_key, fingerprint

__all__ = ["ScribeService", "parse_json", "HEALTH_TTL_S"]

HEALTH_TTL_S = 2.0  # how long one probe of every part answers /healthz


def parse_json(body: bytes, model):
    """Parse a JSON body into ``model``: 400 for malformed JSON, 422 for a wrong shape."""
    if not body.strip():
        body = b"{}"
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise BadRequest("The request body is not valid JSON.", code="malformed_json") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise ValidationFailed(f"Invalid request at '{where}': {first['msg']}.") from None


class ScribeService:
    """Everything the HTTP API does, in terms of the store and the pipeline.

    Args:
        store: the session store's typed client.
        kick: schedules processing of a session (fire and forget).
        limits: request limits (413 / 422 beyond them).
        health_checks: name -> coroutine returning when that part is ready.
        feedback: the feedback recorder, or None (feedback answers 503).
        export: how exported notes are typed (FHIR document type).
        audit: where names reveals, exports, feedback and deletions are recorded (None: not recorded).
        eraser: runs a DELETE's erasure everywhere (None: the store's journal only).
        fingerprint: a request body's keyed fingerprint for ``Idempotency-Key`` records (the
            deployment passes :meth:`Pseudonymizer.fingerprint`; the unkeyed default is for tests).
    """

    def __init__(self, store: StoreClient, kick: Callable[[str], Any], limits: LimitsConfig,
                 health_checks: dict[str, Callable[[], Awaitable[Any]]], feedback: FeedbackRecorder | None = None,
                 export: ExportConfig | None = None, audit: AuditLog | None = None, eraser: Eraser | None = None,
                 fingerprint: Callable[[Any], str] = fingerprint):
        self._store = store
        self._decoder = DecoderSandbox(limits.decode_memory_mb, limits.decode_timeout_s)
        self._fingerprint = fingerprint
        self._reads = StateSnapshots(store.api.get_state_json, store.api.wait_version)
        self._owned = OwnedSessions(store.api.session_exists)
        self._probes = Coalescer()  # one health probe at a time, however many ask
        self._health: tuple[float, dict[str, str]] | None = None
        self._eraser = eraser
        self._audit = audit
        self._export = export or ExportConfig()
        self._feedback = feedback
        self._kick = kick
        self.limits = limits
        self._health_checks = health_checks

    async def health(self) -> dict[str, str]:
        """Each part's readiness, probed at most once per ``HEALTH_TTL_S`` however many callers ask
        (an anonymous flood of ``/healthz`` costs the backends nothing more; review M7)."""
        cached = self._health
        if cached is not None and time.monotonic() - cached[0] < HEALTH_TTL_S:
            return cached[1]
        parts = await self._probes.read("/healthz", self._probe_parts)
        self._health = (time.monotonic(), parts)
        return parts

    async def _probe_parts(self) -> dict[str, str]:
        async def check(fn):
            try:
                await asyncio.wait_for(fn(), timeout=5)
                return "ok"
            except Exception:
                return "unavailable"

        names = list(self._health_checks)
        results = await asyncio.gather(*(check(self._health_checks[n]) for n in names))
        return dict(zip(names, results))

    async def create_session(self, clinician: str, body: bytes, idempotency_key: str | None) -> dict:
        check_key(idempotency_key)
        request = parse_json(body, CreateSessionRequest)
        channels = dict(request.channels) if request.channels else None
        return await self._store.api.create_session(clinician, channels, idempotency_key,
                                                    self._fingerprint(request.model_dump()), uuid.uuid4().hex)

    async def put_chunk(self, clinician: str, sid: str, seq: int, data: bytes, content_type: str | None) -> dict:
        if seq < 0 or seq > self.limits.max_seq:
            raise ValidationFailed(f"seq must be between 0 and {self.limits.max_seq}.", code="invalid_seq")
        # Ownership first, so a stranger learns nothing from decoding errors (remembered once confirmed).
        await self._owned.require(clinician, sid)
        duration_s, channels = await self._decoder.run(data, content_type, self.limits.max_chunk_seconds)
        if duration_s > self.limits.max_chunk_seconds:  # resampling can add a few samples
            raise PayloadTooLarge(
                f"The chunk is {duration_s:.1f} s long; the limit is {self.limits.max_chunk_seconds:g} s.",
                code="chunk_too_long",
            )
        try:
            result = await self._store.api.put_chunk(clinician, sid, seq, data, content_type or "",
                                                     round(duration_s, 6), channels)
        except NotFound:
            self._owned.forget(sid)
            raise
        self._kick(sid)
        return result

    async def add_segments(self, clinician: str, sid: str, body: bytes, idempotency_key: str | None) -> dict:
        check_key(idempotency_key)
        request = parse_json(body, SegmentsRequest)
        if len(request.segments) > self.limits.max_segments_per_batch:
            raise PayloadTooLarge(f"At most {self.limits.max_segments_per_batch} segments per request.",
                                  code="too_many_segments")
        for seg in request.segments:
            if len(seg.text) > self.limits.max_segment_chars:
                raise PayloadTooLarge(f"A segment is longer than {self.limits.max_segment_chars} characters.",
                                      code="segment_too_long")
            if seg.start is not None and seg.end is not None and seg.end < seg.start:
                raise ValidationFailed("A segment ends before it starts.", code="invalid_times")
        segments = [s.model_dump() for s in request.segments]
        body_fp = self._fingerprint(segments)
        result = await self._store.api.add_segments(clinician, sid, segments, idempotency_key, body_fp,
                                                    uuid.uuid4().hex)  # the request id makes Ray's retries harmless
        self._kick(sid)
        return result

    async def correct_role(self, clinician: str, sid: str, segment_id: str, body: bytes) -> dict:
        """Set one segment's role (PATCH); the note is rewritten from the corrected transcript."""
        request = parse_json(body, RoleCorrection)
        segment = await self._store.api.correct_role(clinician, sid, segment_id, request.role)
        self._kick(sid)
        return segment

    async def list_sessions(self, clinician: str) -> list[SessionSummaryDoc]:
        return await self._store.api.list_sessions(clinician)

    async def get_state(self, clinician: str, sid: str) -> SessionStateDoc:
        return await self._store.api.get_state(clinician, sid)

    async def get_state_json(self, clinician: str, sid: str) -> bytes:
        """The state document as JSON bytes, from a snapshot kept fresh by watching the store
        (:class:`~serve_app.ingress.snapshots.StateSnapshots`: never older than a write this ingress
        acknowledged or an event it handed out)."""
        return await self._reads.read(clinician, sid)

    def written(self, sid: str) -> None:
        """A write to ``sid`` is being answered: reads after it must not be served an older snapshot."""
        self._reads.invalidate(sid)

    async def _audited(self, clinician: str, what: str, sid: str, /, **detail) -> None:
        if self._audit is not None:
            await self._audit.record(clinician, what, sid, **detail)

    async def get_names(self, clinician: str, sid: str) -> dict[str, str]:
        names = await self._store.api.get_names(clinician, sid)
        await self._audited(clinician, "names_revealed", sid, count=len(names))
        return names

    async def delete_session(self, clinician: str, sid: str) -> list[str]:
        """Erase the session everywhere; returns the erasure steps still pending ([]: all done)."""
        self._owned.forget(sid)
        if self._eraser is None:
            await self._store.api.delete_session(clinician, sid)
            remaining: list[str] = []
        else:
            remaining = await self._eraser.erase(clinician, sid)
        await self._audited(clinician, "deleted", sid, pending=remaining)
        return remaining

    async def session_exists(self, clinician: str, sid: str) -> bool:
        """True, or 404 when the session is not the clinician's."""
        return await self._store.api.session_exists(clinician, sid)

    async def wait_events(self, clinician: str, sid: str, after: int, timeout_s: float) -> dict:
        """Events after ``after`` (long-poll up to ``timeout_s``); see the event catalogue."""
        batch = await self._store.api.wait_events(clinician, sid, after, timeout_s)
        if batch["events"]:
            self._reads.saw(sid, batch["events"][-1]["id"])
        return batch

    async def export(self, clinician: str, sid: str, fmt: str) -> str | dict:
        """The session's note with names restored, as text or a FHIR DocumentReference (owner only;
        409 ``no_note`` while there is none)."""
        state = await self._store.api.get_state(clinician, sid)
        if state["note"] is None:
            raise Conflict("This session has no note yet.", code="no_note")
        names = await self._store.api.get_names(clinician, sid)
        if fmt == "fhir":
            body = await asyncio.to_thread(note_as_fhir, state, names, clinician, self._export)
        else:
            body = note_as_text(state, names)
        await self._audited(clinician, "exported", sid, format=fmt, note_version=state["note_version"])
        return body

    async def finish(self, clinician: str, sid: str) -> dict:
        result = await self._store.api.request_finish(clinician, sid)
        self._kick(sid)
        return result

    async def feedback(self, clinician: str, sid: str, body: bytes, idempotency_key: str | None) -> dict:
        """Record a clinician's judgement of a note; returns once it is durable."""
        check_key(idempotency_key)
        await self._store.api.session_exists(clinician, sid)
        request = parse_json(body, FeedbackRequest)
        if self._feedback is None:
            raise NotReady("Feedback is not available on this deployment.", code="feedback_unavailable")
        answer = await self._feedback.record(clinician, sid, request, idempotency_key)
        await self._audited(clinician, "feedback", sid, action=request.action, note_version=request.note_version,
                            feedback_id=answer["feedback_id"])
        return answer
