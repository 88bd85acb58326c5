"""Typed, picklable errors that carry their HTTP status.

Engines and actors raise these; the ingress maps every one of them to the
API's single error body ``{"error": {"code": ..., "message": ...}}`` in one
place (``serve_app.ingress.routes.install_error_handlers``).  They survive a trip through
Ray (``__reduce__``), so an error raised inside the session-store actor or a
deployment reaches the ingress with its status intact.
"""
from __future__ import annotations

__all__ = [
    "ScribeError",
    "BadRequest",
    "Unauthorized",
    "NotFound",
    "Conflict",
    "PayloadTooLarge",
    "UnsupportedMediaType",
    "InvalidAudio",
    "ValidationFailed",
    "Overloaded",
    "NotReady",
]


class ScribeError(Exception):
    """Base class: ``status_code`` and machine ``code`` go into the error body."""

    status_code: int = 400
    code: str = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, retry_after: int | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.retry_after = retry_after

    def __reduce__(self):
        return (_rebuild, (type(self), self.message, self.code, self.retry_after))

    def body(self) -> dict:
        """The API error body for this error."""
        return {"error": {"code": self.code, "message": self.message}}


def _rebuild(cls, message, code, retry_after):
    return cls(message, code=code, retry_after=retry_after)


class BadRequest(ScribeError):
    status_code = 400
    code = "bad_request"


class Unauthorized(ScribeError):
    status_code = 401
    code = "unauthorized"


class NotFound(ScribeError):
    status_code = 404
    code = "not_found"


class Conflict(ScribeError):
    status_code = 409
    code = "conflict"


class PayloadTooLarge(ScribeError):
    status_code = 413
    code = "payload_too_large"


class UnsupportedMediaType(ScribeError):
    status_code = 415
    code = "unsupported_media_type"


class InvalidAudio(ScribeError):
    status_code = 422
    code = "invalid_audio"


class ValidationFailed(ScribeError):
    status_code = 422
    code = "validation_error"


class TooManyRequests(ScribeError):
    """429: this caller holds too much of a shared resource (open event streams); retry later."""

    status_code = 429
    code = "too_many_requests"


class Overloaded(ScribeError):
    status_code = 503
    code = "overloaded"

    def __init__(self, message: str, *, code: str | None = None, retry_after: int | None = 2):
        super().__init__(message, code=code, retry_after=retry_after)


class StorageFull(ScribeError):
    """507: the disk (or its quota) is full; nothing of the request was acknowledged."""

    status_code = 507
    code = "storage_full"


class NotReady(Overloaded):
    code = "not_ready"
