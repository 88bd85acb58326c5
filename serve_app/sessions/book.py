"""The store's core: every session's folded state, its events, its names, and the one
way to change a session (:meth:`SessionBook.emit`).

No Ray and no policy here: the role classes (:mod:`.client_api`, :mod:`.fences`,
:mod:`.note_commits`, :mod:`.feedback_log`) decide *whether* to emit; the book
journals the event (fsynced before it returns), folds it into the state and wakes
the SSE long-polls waiting on the session.
"""
from __future__ import annotations

import asyncio
import time
from typing import Any, Callable

from pydantic import TypeAdapter

from serve_app.contracts import SessionStateDoc
from serve_app.errors import NotFound, StorageFull
from serve_app.sessions.idempotency import replay
from serve_app.sessions.model import SessionState, WorkItem, apply, next_work
from serve_app.sessions.spec import StoreSpec
from serve_app.sessions.views import state_doc

__all__ = ["SessionBook"]

_STATE_JSON = TypeAdapter(SessionStateDoc)  # the same validation and JSON the API's response model gives


class SessionBook:
    """All sessions of this store, rebuilt from the journal on construction.

    Args:
        journal: a :class:`~serve_app.sessions.disk_journal.DiskJournal` (or any
            object with the same methods).
        spec: limits and what a session needs before it finishes (see :class:`StoreSpec`).
        clock: seconds since the epoch (injectable for tests).
    """

    def __init__(self, journal, spec: StoreSpec, clock: Callable[[], float] = time.time):
        self.journal = journal
        self.spec = spec
        self.clock = clock
        self.sessions: dict[str, SessionState] = {}
        self.events: dict[str, list[dict[str, Any]]] = {}
        self._names: dict[str, dict[str, str]] = {}
        self._changed: dict[str, asyncio.Event] = {}
        self._rendered: dict[str, tuple[int, bytes]] = {}
        self._create_keys: dict[tuple[str, str], str] = {}  # (owner, Idempotency-Key) -> session id
        self._create_requests: dict[tuple[str, str], str] = {}  # (owner, request id) -> session id
        for sid in journal.session_ids():
            events = journal.load_events(sid)
            if not events:
                continue
            state = SessionState(sid)
            for event in events:
                apply(state, event)
            self.sessions[sid] = state
            self.events[sid] = events
            self._index_create(sid, events[0])

    def _index_create(self, sid: str, created: dict[str, Any]) -> None:
        """Remember which create made ``sid``: its ``session_created`` event's key and request id."""
        data = created.get("data", {})
        if data.get("idempotency_key"):
            self._create_keys[(data["owner"], data["idempotency_key"])] = sid
        if data.get("request_id"):
            self._create_requests[(data["owner"], data["request_id"])] = sid

    def created_by(self, owner: str, key: str | None, fp: str | None, request_id: str | None) -> dict | None:
        """The answer of ``owner``'s earlier create with ``request_id`` (a Ray retry) or ``key``
        (see :mod:`.idempotency`); None if there was none."""
        sid = self._create_requests.get((owner, request_id)) if request_id else None
        if sid in self.sessions:
            return {"session_id": sid}
        state = self.sessions.get(self._create_keys.get((owner, key), "")) if key else None
        return replay(state.idempotency, "create", key, fp, self.clock()) if state else None

    def work(self, state: SessionState, now: float | None = None) -> WorkItem:
        """The next step of ``state`` (see :func:`~serve_app.sessions.model.next_work`)."""
        spec = self.spec
        return next_work(state, self.clock() if now is None else now, spec.finish_grace_s, spec.notes,
                         spec.checks, spec.context_s)

    def open(self, sid: str) -> SessionState:
        """Register a new, empty session (its first event makes it durable)."""
        self.sessions[sid] = SessionState(sid)
        self.events[sid] = []
        return self.sessions[sid]

    def emit(self, sid: str, kind: str, data: dict[str, Any]) -> dict[str, Any]:
        """Journal (fsync), apply and announce one event of ``sid``; returns it."""
        state = self.sessions[sid]
        event = {"id": state.last_event_id + 1, "type": kind, "ts": self.clock(), "data": data}
        self.journal.append(sid, event)
        apply(state, event)
        if kind == "session_created":
            self._index_create(sid, event)
        self.events[sid].append(event)
        self._wake(sid)
        return event

    def owned(self, owner: str, sid: str) -> SessionState:
        """``sid``'s state if ``owner`` owns it; 404 otherwise (another clinician's is absent)."""
        state = self.sessions.get(sid)
        if state is None or state.owner != owner:  # owners are ids, not secrets (any Unicode works)
            raise NotFound("No such session.", code="session_not_found")
        return state

    def state(self, sid: str) -> SessionState:
        """``sid``'s state for internal callers (the pipeline); 404 if it is gone."""
        state = self.sessions.get(sid)
        if state is None:
            raise NotFound("No such session.", code="session_not_found")
        return state

    def check_room(self) -> None:
        """507 ``low_disk`` if the data disk has less than ``spec.min_free_bytes`` free: new client data
        is refused while the pipeline's (small) commits still fit, never a half-written record."""
        if self.spec.min_free_bytes and self.journal.free_bytes() < self.spec.min_free_bytes:
            raise StorageFull("The server is low on storage; nothing was stored. Try again later.", code="low_disk")

    def rendered(self, sid: str) -> bytes:
        """``sid``'s API state document as JSON bytes, rendered once per change (reads are then a
        dictionary lookup, however many clients poll)."""
        state = self.sessions[sid]
        cached = self._rendered.get(sid)
        if cached is None or cached[0] != state.last_event_id:
            cached = self._rendered[sid] = (state.last_event_id, _STATE_JSON.dump_json(
                _STATE_JSON.validate_python(state_doc(state))))
        return cached[1]

    def names(self, sid: str) -> dict[str, str]:
        """The session's placeholder -> real value map (loaded once, then cached)."""
        if sid not in self._names:
            self._names[sid] = self.journal.load_names(sid)
        return self._names[sid]

    def save_names(self, sid: str, delta: dict[str, str] | None) -> None:
        """Add new placeholders to the session's map, durably (before the event that uses them)."""
        if not delta:
            return
        names = self.names(sid)
        names.update(delta)
        self.journal.save_names(sid, names)

    def forget(self, sid: str) -> None:
        """Erase a session everywhere (journal, memory) and end its streams."""
        self.journal.delete(sid)
        self.sessions.pop(sid, None)
        self.events.pop(sid, None)
        self._names.pop(sid, None)
        self._rendered.pop(sid, None)
        for index in (self._create_keys, self._create_requests):
            for key in [k for k, v in index.items() if v == sid]:
                del index[key]
        self._wake(sid)

    async def wait_change(self, sid: str, timeout_s: float) -> None:
        """Return when ``sid`` changes (an event or its deletion), or after ``timeout_s``."""
        signal = self._changed.setdefault(sid, asyncio.Event())
        try:
            await asyncio.wait_for(signal.wait(), timeout_s)
        except asyncio.TimeoutError:
            pass

    def _wake(self, sid: str) -> None:
        signal = self._changed.pop(sid, None)
        if signal is not None:
            signal.set()
