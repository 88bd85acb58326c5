"""``GET /v1/sessions/{sid}`` answered before FastAPI's routing and dependency solving.

The state read is the route clients poll; at 64 clients it is most of the ingress's work, and a
profile had a third of its CPU in Starlette's routing, FastAPI's dependency solving and exception
middleware around a call that is one token check and one coalesced store read.  This pure ASGI
middleware answers exactly that route (same authentication, same coalesced read, same typed error
bodies as every other route: :func:`~serve_app.ingress.errors.error_response`) and passes everything
else on.  The route stays declared in FastAPI for the OpenAPI document.

It also tells the reads about writes: any other method on ``/v1/sessions/{sid}[/...]`` calls
``written(sid)`` as its answer starts (before the client can see it), so a read that follows an
acknowledged write is never served a snapshot older than that write
(:class:`~serve_app.ingress.snapshots.StateSnapshots`).
"""
from __future__ import annotations

import re
from typing import Awaitable, Callable

from starlette.datastructures import Headers

from serve_app.ingress.deadline import answer_json_within
from serve_app.log_context import enter_session

__all__ = ["FastStateReads", "StateReadAnswer", "state_read_sid"]

_STATE = re.compile(r"/v1/sessions/([^/]+)")
_SESSION = re.compile(r"/v1/sessions/([^/]+)(?:/.*)?")


def state_read_sid(scope) -> str | None:
    """The session id if ``scope`` is ``GET /v1/sessions/{sid}`` (the state read), else None."""
    if scope["type"] != "http" or scope["method"] != "GET":
        return None
    match = _STATE.fullmatch(scope["path"])
    return match.group(1) if match else None


class StateReadAnswer:
    """Answers one state read: the token check, the snapshot read, the typed errors and the deadline.

    Args:
        clinician: ``Authorization`` header value -> clinician id, or raises the 401 ``ScribeError``.
        read: ``(clinician, sid) -> state JSON bytes`` (the service's snapshot read).
        timeout_s: no answer by then is ``503 request_timeout``, as :class:`RequestDeadline` does.
    """

    def __init__(self, clinician: Callable[[str | None], str], read: Callable[[str, str], Awaitable[bytes]],
                 timeout_s: float):
        self._clinician, self._read, self._timeout_s = clinician, read, timeout_s

    async def __call__(self, scope, receive, send, sid: str) -> None:
        enter_session(sid)
        authorization = Headers(scope=scope).get("authorization")
        await answer_json_within(scope, receive, send, self._timeout_s, 200,
                                 lambda: self._read(self._clinician(authorization), sid))


class FastStateReads:
    """Pure ASGI middleware for ``GET /v1/sessions/{sid}``.

    Args:
        app: the rest of the application.
        answer: answers a state read (:class:`StateReadAnswer`; the replica's HTTP server uses the same one).
        written: ``sid ->`` None, called as a write to ``sid`` is answered (any status).
    """

    def __init__(self, app, answer: StateReadAnswer, written: Callable[[str], None]):
        self.app, self._answer, self._written = app, answer, written

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if scope["method"] != "GET":
            return await self._write(scope, receive, send)
        sid = state_read_sid(scope)
        if sid is None:
            return await self.app(scope, receive, send)
        await self._answer(scope, receive, send, sid)

    async def _write(self, scope, receive, send):
        match = _SESSION.fullmatch(scope["path"])
        if match is None:
            return await self.app(scope, receive, send)
        sid = match.group(1)

        async def answer(message):
            if message["type"] == "http.response.start":
                self._written(sid)
            await send(message)

        try:
            await self.app(scope, receive, answer)
        finally:  # a write that ended without an answer (a dropped client) may still have landed
            self._written(sid)
