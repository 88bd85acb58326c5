"""State reads answered in the Ingress replica's own HTTP server, before Ray Serve's per-request work.

With Serve's HTTP front (HAProxy, direct ingress) each Ingress replica runs a uvicorn server, and
every request passes Serve's per-request handling (request context, a disconnect-watching task,
metrics, access log, the ongoing-request count) before the app sees it.  Measured with a replica whose
app answers every request with constant bytes (``bench.perf.read_floor``): about 220 µs of CPU per
request against about 32 µs for the same app in plain uvicorn, while this project's state read adds
only about a tenth to that floor.  At 64 back-to-back pollers that floor is the read tail.

Serve lets a process add Starlette middlewares to that server: ``RAY_SERVE_HTTP_PROXY_CALLBACK_IMPORT_PATH``
names a callback returning them.  The builder sets it on the Ingress deployment only
(``http.server_state_reads``), to :func:`middlewares`.  :class:`ServerStateReads` answers
``GET /v1/sessions/{sid}`` with the Ingress's own :class:`~serve_app.ingress.fast_reads.StateReadAnswer`
(the same token check, snapshot, typed errors and deadline as the app's own path, and an
``X-Request-ID`` as Serve gives) and hands every other request to Serve unchanged.

What these reads do not get from Serve: its request metrics and access-log lines.
``scribe_state_reads_total`` counts them instead, and a read that is not a ``200`` or took
``SLOW_READ_MS`` or more is logged here, as Serve's log had it (the app's poll filter dropped fast ``200``
reads from it anyway), with the route template, never the session id.  Nor are they in
the replica's ongoing-request count: a snapshot read is answered at once or joins the one store fetch
of its session, bounded by the deadline.

They are answered only in the process and event loop of the Ingress that registered
(:func:`serve_state_reads`).  Anywhere else (Serve's own proxy, a replica whose Ingress is not built
yet, user code on another thread's loop) the request goes on to Serve as before.
"""
from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware import Middleware

from serve_app.ingress.fast_reads import StateReadAnswer, state_read_sid
from serve_app.metrics import record

__all__ = ["CALLBACK_ENV", "SLOW_READ_MS", "ServerStateReads", "middlewares", "serve_state_reads",
           "server_reads_env"]

log = logging.getLogger("scribe.ingress")
#: a state read answered 200 faster than this leaves no log line (every other one does)
SLOW_READ_MS = 100.0

#: Ray Serve's hook: an import path to a callback returning Starlette middlewares for the HTTP server
CALLBACK_ENV = "RAY_SERVE_HTTP_PROXY_CALLBACK_IMPORT_PATH"
_SERVED: list[tuple[StateReadAnswer, asyncio.AbstractEventLoop]] = []  # this process's Ingress, if any
_FLUSH_S = 1.0  # counts reach the metric once a second, not per read (a metric call costs as much as a read)


def server_reads_env() -> dict[str, str]:
    """The Ingress replica's environment variable that installs :func:`middlewares` in its HTTP server."""
    return {CALLBACK_ENV: f"{__name__}:middlewares"}


def middlewares() -> list[Middleware]:
    """Ray Serve's HTTP-server callback (``RAY_SERVE_HTTP_PROXY_CALLBACK_IMPORT_PATH``)."""
    return [Middleware(ServerStateReads)]


def serve_state_reads(answer: StateReadAnswer, loop: asyncio.AbstractEventLoop) -> None:
    """The Ingress of this process answers state reads with ``answer``, on ``loop`` (its user-code loop)."""
    _SERVED[:] = [(answer, loop)]


def stop_serving_state_reads() -> None:
    """Back to Serve for every request (tests)."""
    _SERVED.clear()


def _request_id(scope) -> str:
    """The request's ``X-Request-ID``, or a new one made as Serve makes them (random bits, not a CSPRNG)."""
    given = Headers(scope=scope).get("x-request-id")
    return given or str(uuid.UUID(int=random.getrandbits(128), version=4))


class ServerStateReads:
    """Pure ASGI middleware in front of Serve's request handling (see the module docstring)."""

    def __init__(self, app):
        self.app = app
        self._counts: dict[str, int] = {}  # answers by status since the last flush to the metric

    async def __call__(self, scope, receive, send):
        sid = state_read_sid(scope) if _SERVED and not scope.get("root_path") else None
        if sid is None:
            return await self.app(scope, receive, send)
        answer, loop = _SERVED[0]
        if asyncio.get_running_loop() is not loop:
            return await self.app(scope, receive, send)
        request_id, t0 = _request_id(scope), time.perf_counter()

        async def send_with_id(message):
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append("X-Request-ID", request_id)
                status, ms = message["status"], (time.perf_counter() - t0) * 1000
                self._count(str(status))
                if status != 200 or ms >= SLOW_READ_MS:
                    log.info("GET /v1/sessions/{sid} %d %.1fms (answered by the HTTP server) request_id=%s",
                             status, ms, request_id)
            await send(message)

        await answer(scope, receive, send_with_id, sid)

    def _count(self, status: str) -> None:
        if not self._counts:
            asyncio.get_running_loop().call_later(_FLUSH_S, self._flush)
        self._counts[status] = self._counts.get(status, 0) + 1

    def _flush(self) -> None:
        counts, self._counts = self._counts, {}
        for status, n in counts.items():
            record("state_reads_total", n, status=status)
