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
from collections import OrderedDict
from typing import Any, Callable

from pydantic import TypeAdapter

from serve_app.contracts import SessionStateDoc
from serve_app.errors import NotFound, PayloadTooLarge, StorageFull
from serve_app.sessions.catalog import Catalog, entry_of
from serve_app.sessions.compaction import compact
from serve_app.sessions.compaction import finished_at as _finished_at
from serve_app.sessions.event_metrics import EventMetrics
from serve_app.sessions.idempotency import replay
from serve_app.sessions.model import SessionState, WorkItem, apply, fold, next_work
from serve_app.sessions.spec import StoreSpec
from serve_app.sessions.views import state_doc

__all__ = ["SessionBook"]

_STATE_JSON = TypeAdapter(SessionStateDoc)  # the same validation and JSON the API's response model gives


class SessionBook:
    """The sessions of this store: every active one in memory, finished ones loaded on first use.

    At start only the catalog (:mod:`.catalog`, one small entry per session) and the active
    sessions' events are read, so restart time and memory grow with the sessions in progress, not
    with the finished ones on disk.  A finished session with nothing left to do is compacted (drafts a
    later note replaced are dropped from its journal) and kept in a small LRU of
    ``spec.cached_sessions``; beyond that it leaves memory until it is used again.

    Args:
        journal: a :class:`~serve_app.sessions.disk_journal.DiskJournal` or
            :class:`~serve_app.sessions.redis_journal.RedisJournal`.
        spec: limits and what a session needs before it finishes (see :class:`StoreSpec`).
        clock: seconds since the epoch (injectable for tests).
        observer: sees every emitted event after it is durable (default: the live-latency metrics,
            :class:`~serve_app.sessions.event_metrics.EventMetrics`).
    """

    def __init__(self, journal, spec: StoreSpec, clock: Callable[[], float] = time.time,
                 observer: EventMetrics | None = None):
        self.journal = journal
        self.observer = observer or EventMetrics()
        self.spec = spec
        self.clock = clock
        self.sessions: dict[str, SessionState] = {}  # the sessions in memory (all active ones)
        self.events: dict[str, list[dict[str, Any]]] = {}
        self._settled: OrderedDict[str, None] = OrderedDict()  # finished, idle, in memory: LRU order
        self._names: dict[str, dict[str, str]] = {}
        self._changed: dict[str, asyncio.Event] = {}
        self._rendered: dict[str, tuple[int, bytes]] = {}
        self._create_requests: dict[tuple[str, str], str] = {}  # (owner, request id) -> active session id
        entries = journal.load_catalog()
        self.catalog = Catalog(entries if entries is not None else self._rebuild_catalog())
        for sid in self.catalog.active():
            state = self._load(sid)
            if state is None:  # its create never wrote an event
                self._put_entry(sid, None)
            elif not self._is_active(state):  # finished just before a crash: settle it now
                self._settle(sid)

    # -- loading, settling, evicting ----------------------------------------------------
    def _rebuild_catalog(self) -> dict[str, dict[str, Any]]:
        """Journals written before the catalog: one pass over every session, once."""
        entries = {}
        for sid in self.journal.session_ids():
            events = self.journal.load_events(sid)
            if events:
                state = fold(sid, events)
                entries[sid] = entry_of(state, active=self._is_active(state), finished_at=_finished_at(events),
                                        key=events[0].get("data", {}).get("idempotency_key"))
        self.journal.write_catalog(entries)
        return entries

    def _load(self, sid: str) -> SessionState | None:
        events = self.journal.load_events(sid)
        if not events:
            return None
        state = self.sessions[sid] = fold(sid, events)
        self.events[sid] = events
        data = events[0].get("data", {})
        if data.get("request_id") and self._is_active(state):
            self._create_requests[(data["owner"], data["request_id"])] = sid
        return state

    def _is_active(self, state: SessionState) -> bool:
        """Unfinished, or finished with a step still due (a new final note after a correction)."""
        return not state.finished or (self.spec.notes and state.note_stale()) \
            or (self.spec.checks and state.checks_stale())

    def _put_entry(self, sid: str, entry: dict[str, Any] | None) -> None:
        self.journal.put_entry(sid, entry)
        if entry is None:
            self.catalog.drop(sid)
        else:
            self.catalog.set(sid, entry)

    def _settle(self, sid: str) -> None:
        """``sid`` finished and has nothing left to do: compact it, mark it inactive, let it be evicted."""
        events = self.events[sid]
        compacted = compact(events)
        if len(compacted) < len(events):
            self.journal.rewrite_events(sid, compacted)
            self.events[sid] = compacted
        self._put_entry(sid, self._finished_entry(sid, active=False))
        self._unindex_requests(sid)
        self._settled[sid] = None
        self._touch(sid)

    def _finished_entry(self, sid: str, active: bool) -> dict[str, Any]:
        """The catalog entry of finished session ``sid``, keeping when it first finished."""
        previous = self.catalog.get(sid) or {}
        return entry_of(self.sessions[sid], previous, active=active,
                        finished_at=previous.get("finished_at") or _finished_at(self.events[sid]))

    def _touch(self, sid: str) -> None:
        """``sid`` (a settled session) was just used: most recent in the LRU, which is trimmed to size."""
        self._settled.move_to_end(sid)
        while len(self._settled) > self.spec.cached_sessions:
            self._evict(next(iter(self._settled)))

    def _unindex_requests(self, sid: str) -> None:
        for key in [k for k, v in self._create_requests.items() if v == sid]:
            del self._create_requests[key]

    def _evict(self, sid: str) -> None:
        self._settled.pop(sid, None)
        for cache in (self.sessions, self.events, self._names, self._rendered):
            cache.pop(sid, None)

    def mark(self, sid: str, **flags: Any) -> None:
        """Record retention steps done in ``sid``'s catalog entry (durably)."""
        if (entry := self.catalog.get(sid)) is not None:
            self._put_entry(sid, {**entry, **flags})

    def get(self, sid: str) -> SessionState | None:
        """``sid``'s state, loaded from the journal if it was evicted; None if there is no such session."""
        state = self.sessions.get(sid)
        if state is None and sid in self.catalog:
            state = self._load(sid)
            if state is None:  # an erasure cut short after its events went: finish forgetting it
                self._put_entry(sid, None)
                return None
            if not self._is_active(state):  # active ones (reloaded after a failed append) stay in memory
                self._settled[sid] = None
        if sid in self._settled:
            self._touch(sid)
        return state

    def events_of(self, sid: str) -> list[dict[str, Any]]:
        """``sid``'s events (loading it if needed); [] if there is no such session."""
        return self.events.get(sid, []) if self.get(sid) is not None else []

    def created_by(self, owner: str, key: str | None, fp: str | None, request_id: str | None) -> dict | None:
        """The answer of ``owner``'s earlier create with ``request_id`` (a Ray retry) or ``key``
        (see :mod:`.idempotency`); None if there was none."""
        sid = self._create_requests.get((owner, request_id)) if request_id else None
        if sid is not None and self.get(sid) is not None:
            return {"session_id": sid}
        state = self.get(self.catalog.created_with(owner, key) or "") if key else None
        return replay(state.idempotency, "create", key, fp, self.clock()) if state else None

    def open_sessions_of(self, owner: str) -> int:
        """How many unfinished sessions ``owner`` has (all of them are in memory)."""
        return sum(1 for s in self.sessions.values() if s.owner == owner and not s.finished)

    def check_bytes(self, owner: str, adding: int) -> None:
        """413 ``byte_quota`` if ``adding`` bytes would take ``owner``'s unfinished sessions past
        ``spec.max_open_bytes`` (finished sessions' raw uploads are deleted by retention)."""
        held = sum(s.stored_bytes for s in self.sessions.values() if s.owner == owner and not s.finished)
        if held + adding > self.spec.max_open_bytes:
            raise PayloadTooLarge(f"Your unfinished sessions hold {held >> 20} MiB of uploads; the limit is "
                                  f"{self.spec.max_open_bytes >> 20} MiB. Finish or delete a session first.",
                                  code="byte_quota")

    def rows_of(self, owner: str) -> list[dict[str, Any]]:
        """``owner``'s catalog entries (every session, loaded or not), with their ids."""
        rows = []
        for sid in self.catalog.owned_by(owner):
            state = self.sessions.get(sid)
            rows.append({"session_id": sid, **(entry_of(state) if state is not None else self.catalog.get(sid))})
        return rows

    def work(self, state: SessionState, now: float | None = None) -> WorkItem:
        """The next step of ``state`` (see :func:`~serve_app.sessions.model.next_work`)."""
        spec = self.spec
        return next_work(state, self.clock() if now is None else now, spec.finish_grace_s, spec.notes,
                         spec.checks, spec.context_s, spec.max_step_s)

    def create(self, sid: str, data: dict[str, Any]) -> SessionState:
        """A new session: its catalog entry, then its ``session_created`` event (durable when this returns)."""
        state = self.sessions[sid] = SessionState(sid)
        self.events[sid] = []
        state.owner, state.created_at = data["owner"], self.clock()
        self._put_entry(sid, entry_of(state, active=True, finished_at=None, key=data.get("idempotency_key")))
        if data.get("request_id"):
            self._create_requests[(data["owner"], data["request_id"])] = sid
        self.emit(sid, "session_created", data)
        return state

    def emit(self, sid: str, kind: str, data: dict[str, Any]) -> dict[str, Any]:
        """Journal (fsync), apply and announce one event of ``sid``; returns it.  A finished session's
        catalog entry follows its changes; once it has nothing left to do it is settled."""
        state = self.sessions[sid]
        event = {"id": state.last_event_id + 1, "type": kind, "ts": self.clock(), "data": data}
        try:
            self.journal.append(sid, event)
        except BaseException:  # not acknowledged; whether it landed, the journal knows: reload from it
            self._evict(sid)
            raise
        apply(state, event)
        self.events[sid].append(event)
        try:
            self.observer(sid, event)
        except Exception:  # noqa: BLE001 - the event is durable; a metric must not fail its request
            pass
        if state.finished:
            self._settled.pop(sid, None)
            if self._is_active(state):
                self._put_entry(sid, self._finished_entry(sid, active=True))
            else:
                self._settle(sid)
        self._wake(sid)
        return event

    def owned(self, owner: str, sid: str) -> SessionState:
        """``sid``'s state if ``owner`` owns it; 404 otherwise (another clinician's is absent)."""
        state = self.get(sid)
        if state is None or state.owner != owner:  # owners are ids, not secrets (any Unicode works)
            raise NotFound("No such session.", code="session_not_found")
        return state

    def state(self, sid: str) -> SessionState:
        """``sid``'s state for internal callers (the pipeline); 404 if it is gone."""
        state = self.get(sid)
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
        state = self.state(sid)
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
        self.journal.delete(sid)  # before the entry: a crash in between leaves an entry without events
        self._put_entry(sid, None)
        self._evict(sid)
        self._unindex_requests(sid)
        self.observer.forget(sid)
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
