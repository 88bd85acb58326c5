"""Every error leaves the API as ``{"error": {"code", "message"}}`` with a fitting status.

:class:`~serve_app.errors.ScribeError` s carry their status and code (also when Ray wrapped them on the
way from an actor or replica); FastAPI's own errors and validation failures get codes too;
infrastructure faults (a replica or the store restarting) are 503 with ``Retry-After``; anything
else is a 500 whose log line names only the error type (no PHI).
"""
from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from serve_app.errors import ScribeError
from serve_app.faults import is_infrastructure
from serve_app.ingress.schemas import ErrorBody

__all__ = ["install_error_handlers", "error_response", "ERROR_RESPONSES"]

log = logging.getLogger("scribe.api")
_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized"}
_INFRASTRUCTURE = {"RayActorError", "ActorDiedError", "ActorUnavailableError", "GetTimeoutError",
                   "BackPressureError", "DeploymentUnavailableError", "TimeoutError"}


def _error(status: int, code: str, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


def _unwrap(exc: BaseException) -> BaseException:
    """Ray wraps errors raised in actors and replicas; find the original."""
    for _ in range(5):
        cause = getattr(exc, "cause", None)
        if not isinstance(cause, BaseException):
            break
        exc = cause
    return exc


def _scribe_error_response(exc: ScribeError) -> JSONResponse:
    headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
    return JSONResponse(exc.body(), status_code=exc.status_code, headers=headers)


def error_response(exc: BaseException) -> JSONResponse:
    """The typed answer for an error raised while serving a request (a ``ScribeError`` as it says,
    also when Ray wrapped it; an infrastructure fault as 503 + ``Retry-After``; anything else 500)."""
    original = _unwrap(exc)
    if isinstance(original, ScribeError):
        return _scribe_error_response(original)
    name = type(original).__name__
    if name in _INFRASTRUCTURE or is_infrastructure(original) or is_infrastructure(exc):
        return _error(503, "unavailable", "A backend service is restarting; retry shortly.",
                      {"Retry-After": "2"})
    log.error("unexpected %s while serving a request", name)
    return _error(500, "internal_error", "Unexpected server error.")


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ScribeError)
    async def scribe_error(_: Request, exc: ScribeError):
        return _scribe_error_response(_unwrap(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException):
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        return _error(exc.status_code, code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(p) for p in first.get("loc", ())) or "request"
        return _error(422, "validation_error", f"Invalid {where}: {first.get('msg')}.")

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception):
        return error_response(exc)


#: The error body documented for every status a route may answer with.
ERROR_RESPONSES = {s: {"model": ErrorBody} for s in (400, 401, 404, 409, 413, 415, 422, 429, 503, 507)}
