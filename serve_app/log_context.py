"""Which session a log record is about, as a pseudonym (never the session id, never PHI).

Serve's JSON logs (``logging_config: {encoding: JSON}`` in ``serve_config.yaml``) already carry the
request id, deployment and replica of every record; this adds a ``session`` field: the session's
keyed pseudonym (``session_<24 hex>``, the same one the audit log and the datasets use), set for the
duration of a session's pipeline, note or check step and of a request on ``/v1/sessions/{id}/...``.
An ops engineer can follow one consultation through every replica's logs without learning its id.
"""
from __future__ import annotations

import logging
import re
from contextvars import ContextVar
from typing import Callable

__all__ = ["install", "enter_session", "session_from_path", "SessionFilter", "SessionLogMiddleware",
           "RoutinePollFilter", "quiet_routine_polls"]

_session: ContextVar[str] = ContextVar("scribe_log_session", default="")
_labeller: list[Callable[[str], str]] = []  # sid -> pseudonym, installed once per process
_PATH = re.compile(r"^/v1/sessions/([^/]+)")


class SessionFilter(logging.Filter):
    """Adds ``record.session`` (the current session's pseudonym, or "") to every record it sees."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "session", ""):
            record.session = _session.get()
        return True


def install(labeller: Callable[[str], str] | None = None, serve_logger: str = "ray.serve",
            app_logger: str = "scribe") -> None:
    """In a replica: the app's loggers (``scribe.*``) write through Serve's handlers (its JSON replica log),
    and every record those handlers write is labelled with the session pseudonym ``labeller(sid)``.

    Call it after Serve configured the replica's logging (in a deployment's ``__init__``); idempotent.
    Without ``labeller`` (a replica that works on no session) only the routing is done."""
    if labeller is not None:
        _labeller[:] = [labeller]
    serve, app = logging.getLogger(serve_logger), logging.getLogger(app_logger)
    for handler in serve.handlers:
        if not any(isinstance(f, SessionFilter) for f in handler.filters):
            handler.addFilter(SessionFilter())
        if handler not in app.handlers:
            app.addHandler(handler)
    if serve.handlers:
        app.propagate = False  # written once, by Serve's handlers
        app.setLevel(serve.getEffectiveLevel())


class RoutinePollFilter(logging.Filter):
    """Drops Serve's access-log line of a *routine* poll: a ``GET`` of ``route`` answered 200 in less
    than ``slow_ms``.  Every other request keeps its line (errors, slow polls, every write).

    Clients poll the session state many times a second; at 64 pollers formatting and writing one
    line per poll was a tenth of the ingress's CPU (py-spy).  The polls are still counted by Serve's
    and HAProxy's request metrics."""

    def __init__(self, route: str, slow_ms: float):
        super().__init__()
        self._request, self._slow_ms = f"GET {route} 200", slow_ms

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "serve_access_log", False) or not isinstance(record.msg, str):
            return True
        request, _, latency = record.msg.rpartition(" ")  # "[client ]GET /route 200 3.1ms"
        if not request.endswith(self._request) or not latency.endswith("ms"):
            return True
        try:
            return float(latency[:-2]) >= self._slow_ms
        except ValueError:
            return True


def quiet_routine_polls(route: str, slow_ms: float, serve_logger: str = "ray.serve") -> None:
    """Install :class:`RoutinePollFilter` on Serve's logger (before its handlers run); idempotent."""
    logger = logging.getLogger(serve_logger)
    logger.filters[:] = [f for f in logger.filters if not isinstance(f, RoutinePollFilter)]
    logger.addFilter(RoutinePollFilter(route, slow_ms))


def enter_session(sid: str) -> None:
    """From here on in this task (its context), records are about ``sid``: a no-op before :func:`install`."""
    _session.set(_labeller[0](sid) if _labeller and sid else "")


def session_from_path(path: str) -> str:
    """The session id in an API path (``/v1/sessions/<id>/...``), or "" if it names none."""
    match = _PATH.match(path)
    return match.group(1) if match else ""


class SessionLogMiddleware:
    """Pure ASGI middleware: a request on ``/v1/sessions/<id>/...`` logs as about that session."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            enter_session(session_from_path(scope.get("path", "")))
        await self.app(scope, receive, send)
