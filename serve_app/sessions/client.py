"""The typed client of the session store: one ``async`` method per store call.

Callers (ingress, pipeline, feedback recorder) hold a :class:`StoreClient`; how its
calls travel is the transport's business: :class:`LocalTransport` calls a store
in this process (unit tests, tools), ``deployments.session_store.ActorTransport``
calls the store actor.  A call is named by the role class's own method object
(``PipelineFences.next_work``), never by a string, so a misspelt method fails in
this process at once (and in a type checker before that); a unit test holds
every method's signature to the store's.
"""
from __future__ import annotations

import collections
import inspect
from typing import Any, Callable, Protocol

from serve_app.contracts import (
    CheckInputs,
    ChunkData,
    EventBatch,
    Note,
    NoteInputs,
    SessionStateDoc,
    SessionSummaryDoc,
    Warning,
)
from serve_app.sessions.client_api import ClientApi
from serve_app.sessions.feedback_log import FeedbackLog
from serve_app.sessions.fences import PipelineFences
from serve_app.sessions.model import WorkItem
from serve_app.sessions.note_commits import NoteCommits
from serve_app.sessions.retention import RetentionSweep
from serve_app.sessions.store import ROLES, SessionStore

__all__ = ["StoreClient", "StoreTransport", "LocalTransport", "route", "ApiCalls", "WorkCalls", "NoteCalls",
           "FeedbackCalls"]

_ROLE_OF = {cls.__name__: name for name, cls in ROLES.items()}


def route(method: Callable) -> tuple[str, str]:
    """``(role, method name)`` of an unbound method of one of the store's role classes."""
    owner = method.__qualname__.split(".")[0]
    if owner not in _ROLE_OF:
        raise TypeError(f"{method.__qualname__} is not a session-store method")
    return _ROLE_OF[owner], method.__name__


class StoreTransport(Protocol):
    async def call(self, role: str, method: str, *args: Any, **kwargs: Any) -> Any: ...

    async def ping(self) -> bool: ...


class LocalTransport:
    """Calls a :class:`SessionStore` in this process (awaiting its async methods)."""

    def __init__(self, store: SessionStore):
        self.store = store

    async def call(self, role: str, method: str, *args: Any, **kwargs: Any) -> Any:
        result = getattr(self.store.role(role), method)(*args, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result

    async def ping(self) -> bool:
        return True


class _RoleCalls:
    """Base of the per-role clients: every call goes through the owning :class:`StoreClient`."""

    def __init__(self, client: "StoreClient"):
        self._call = client._call


class ApiCalls(_RoleCalls):
    """Calls on behalf of a clinician (owner-scoped).
    Mirrors :class:`~serve_app.sessions.client_api.ClientApi`."""

    async def create_session(self, owner: str, channels: dict[str, str] | None = None,
                             idempotency_key: str | None = None, fingerprint: str | None = None,
                             request_id: str | None = None) -> dict[str, Any]:
        return await self._call(ClientApi.create_session, owner, channels, idempotency_key, fingerprint, request_id)

    async def session_exists(self, owner: str, sid: str) -> bool:
        return await self._call(ClientApi.session_exists, owner, sid)

    async def list_sessions(self, owner: str) -> list[SessionSummaryDoc]:
        return await self._call(ClientApi.list_sessions, owner)

    async def put_chunk(self, owner: str, sid: str, seq: int, data: bytes, content_type: str,
                        duration_s: float, channels: int) -> dict[str, Any]:
        return await self._call(ClientApi.put_chunk, owner, sid, seq, data, content_type, duration_s, channels)

    async def add_segments(self, owner: str, sid: str, segments: list[dict[str, Any]],
                           idempotency_key: str | None = None, fingerprint: str | None = None,
                           request_id: str | None = None) -> dict[str, Any]:
        return await self._call(ClientApi.add_segments, owner, sid, segments, idempotency_key, fingerprint,
                                request_id)

    async def request_finish(self, owner: str, sid: str) -> dict[str, Any]:
        return await self._call(ClientApi.request_finish, owner, sid)

    async def get_state(self, owner: str, sid: str) -> SessionStateDoc:
        return await self._call(ClientApi.get_state, owner, sid)

    async def get_state_json(self, owner: str, sid: str) -> tuple[int, bytes]:
        return await self._call(ClientApi.get_state_json, owner, sid)

    async def wait_version(self, owner: str, sid: str, version: int, timeout_s: float) -> int:
        return await self._call(ClientApi.wait_version, owner, sid, version, timeout_s)

    async def correct_role(self, owner: str, sid: str, segment_id: str, role: str) -> dict[str, Any]:
        return await self._call(ClientApi.correct_role, owner, sid, segment_id, role)

    async def get_names(self, owner: str, sid: str) -> dict[str, str]:
        return await self._call(ClientApi.get_names, owner, sid)

    async def delete_session(self, owner: str, sid: str) -> None:
        return await self._call(ClientApi.delete_session, owner, sid)

    async def wait_events(self, owner: str, sid: str, after: int, timeout_s: float) -> EventBatch:
        return await self._call(ClientApi.wait_events, owner, sid, after, timeout_s)


class WorkCalls(_RoleCalls):
    """The pipeline's work queue, step inputs and fenced commits.
    Mirrors :class:`~serve_app.sessions.fences.PipelineFences`."""

    async def sessions_with_work(self) -> list[str]:
        return await self._call(PipelineFences.sessions_with_work)

    async def next_work(self, sid: str) -> WorkItem:
        return await self._call(PipelineFences.next_work, sid)

    async def names(self, sid: str) -> dict[str, str]:
        return await self._call(PipelineFences.names, sid)

    async def chunk_info(self, sid: str, seqs: list[int],
                         with_data: list[int] | None = None) -> list[ChunkData]:
        return await self._call(PipelineFences.chunk_info, sid, seqs, with_data)

    async def role_context(self, sid: str) -> dict[str, Any]:
        return await self._call(PipelineFences.role_context, sid)

    async def batch_segments(self, sid: str, batch: int) -> list[dict[str, Any]]:
        return await self._call(PipelineFences.batch_segments, sid, batch)

    async def commit_chunk(self, sid: str, seq: int, offset_s: float, cursor: float,
                           segments: list[dict[str, Any]], names_delta: dict[str, str] | None,
                           failed: str | None = None, role_updates: dict[str, dict] | None = None,
                           tentative: dict[str, Any] | None = None) -> bool:
        return await self._call(PipelineFences.commit_chunk, sid, seq, offset_s, cursor, segments, names_delta,
                                failed, role_updates, tentative)

    async def commit_chunks(self, sid: str, chunks: list[tuple[int, float]], cursor: float,
                            segments: list[dict[str, Any]], names_delta: dict[str, str] | None,
                            role_updates: dict[str, dict] | None = None,
                            tentative: dict[str, Any] | None = None) -> bool:
        return await self._call(PipelineFences.commit_chunks, sid, chunks, cursor, segments, names_delta,
                                role_updates, tentative)

    async def commit_batch(self, sid: str, batch: int, segments: list[dict[str, Any]],
                           names_delta: dict[str, str] | None, role_updates: dict[str, dict] | None = None) -> bool:
        return await self._call(PipelineFences.commit_batch, sid, batch, segments, names_delta, role_updates)

    async def commit_flush(self, sid: str, segments: list[dict[str, Any]], names_delta: dict[str, str] | None,
                           role_updates: dict[str, dict] | None = None) -> bool:
        return await self._call(PipelineFences.commit_flush, sid, segments, names_delta, role_updates)

    async def skip_missing(self, sid: str) -> bool:
        return await self._call(PipelineFences.skip_missing, sid)

    async def note_failed(self, sid: str, basis: int, reason: str) -> bool:
        return await self._call(PipelineFences.note_failed, sid, basis, reason)

    async def mark_finished(self, sid: str) -> bool:
        return await self._call(PipelineFences.mark_finished, sid)


class NoteCalls(_RoleCalls):
    """Note drafts, final notes and their warnings.
    Mirrors :class:`~serve_app.sessions.note_commits.NoteCommits`."""

    async def sessions_needing_notes(self) -> list[str]:
        return await self._call(NoteCommits.sessions_needing_notes)

    async def note_inputs(self, sid: str) -> NoteInputs:
        return await self._call(NoteCommits.note_inputs, sid)

    async def commit_note(self, sid: str, basis: int, note: Note, final: bool,
                          stats: dict[str, Any] | None = None) -> bool:
        return await self._call(NoteCommits.commit_note, sid, basis, note, final, stats)

    async def sessions_needing_checks(self) -> list[str]:
        return await self._call(NoteCommits.sessions_needing_checks)

    async def check_inputs(self, sid: str) -> CheckInputs:
        return await self._call(NoteCommits.check_inputs, sid)

    async def commit_warnings(self, sid: str, note_version: int, warnings: list[Warning]) -> bool:
        return await self._call(NoteCommits.commit_warnings, sid, note_version, warnings)


class FeedbackCalls(_RoleCalls):
    """Feedback replay, context and records.
    Mirrors :class:`~serve_app.sessions.feedback_log.FeedbackLog`."""

    async def feedback_replay(self, owner: str, sid: str, idempotency_key: str | None,
                              fingerprint: str | None = None) -> dict[str, Any] | None:
        return await self._call(FeedbackLog.feedback_replay, owner, sid, idempotency_key, fingerprint)

    async def feedback_context(self, owner: str, sid: str, note_version: int) -> dict[str, Any]:
        return await self._call(FeedbackLog.feedback_context, owner, sid, note_version)

    async def record_feedback(self, owner: str, sid: str, feedback_id: str, action: str, note_version: int,
                              final_note: dict[str, Any] | None, idempotency_key: str | None,
                              names_delta: dict[str, str] | None, fingerprint: str | None = None) -> dict[str, Any]:
        return await self._call(FeedbackLog.record_feedback, owner, sid, feedback_id, action, note_version,
                                final_note, idempotency_key, names_delta, fingerprint)


class RetentionCalls(_RoleCalls):
    """The retention sweeper. Mirrors :class:`~serve_app.sessions.retention.RetentionSweep`."""

    async def sweep(self, keep_audio: bool, session_days: float, voice_features_days: float) -> dict[str, int]:
        return await self._call(RetentionSweep.sweep, keep_audio, session_days, voice_features_days)


class StoreClient:
    """Every session-store call, typed, grouped by the store's roles (``api``, ``work``, ``notes``,
    ``feedback``, ``retention``); ``calls`` counts round trips by method (benchmarks, tests)."""

    def __init__(self, transport: StoreTransport):
        self._transport = transport
        self.calls: collections.Counter[str] = collections.Counter()
        self.api = ApiCalls(self)
        self.work = WorkCalls(self)
        self.notes = NoteCalls(self)
        self.feedback = FeedbackCalls(self)
        self.retention = RetentionCalls(self)

    async def _call(self, method: Callable, *args: Any, **kwargs: Any) -> Any:
        role, name = route(method)
        self.calls[name] += 1
        return await self._transport.call(role, name, *args, **kwargs)

    async def ping(self) -> bool:
        return await self._transport.ping()
