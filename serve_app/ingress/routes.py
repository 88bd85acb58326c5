"""The FastAPI app: API.md's routes, authentication, limits and error mapping.

Routes are thin: they authenticate, read the bounded body, and call
:class:`~serve_app.ingress.service.ScribeService`.  Every error leaves as
``{"error": {"code", "message"}}`` with a 4xx status (503 + ``Retry-After``
under back-pressure); nothing here logs request bodies.
"""
from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import Depends, FastAPI, Header, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import JSONResponse
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.exceptions import HTTPException as StarletteHTTPException

from serve_app.ingress.auth import TokenAuth
from serve_app.errors import NotFound, PayloadTooLarge, ScribeError
from serve_app.ingress.schemas import (ChunkAccepted, CreateSessionResponse, ErrorBody, FeedbackAccepted, FinishAccepted, Health,
                      SegmentsAccepted, SessionSummary)
from serve_app.ingress.service import ScribeService

__all__ = ["create_api"]

log = logging.getLogger("scribe.api")
_ERRORS = {s: {"model": ErrorBody} for s in (400, 401, 404, 409, 413, 415, 422, 503)}
_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized"}


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


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, or 413 as soon as it passes ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The body is larger than {limit} bytes.")
    chunks, size = [], 0
    async for piece in request.stream():
        size += len(piece)
        if size > limit:
            raise PayloadTooLarge(f"The body is larger than {limit} bytes.")
        chunks.append(piece)
    return b"".join(chunks)


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
        original = _unwrap(exc)
        if isinstance(original, ScribeError):
            return _scribe_error_response(original)
        name = type(original).__name__
        if name in {"RayActorError", "ActorDiedError", "ActorUnavailableError", "GetTimeoutError",
                    "BackPressureError", "DeploymentUnavailableError", "TimeoutError"}:
            return _error(503, "unavailable", "A backend service is restarting; retry shortly.",
                          {"Retry-After": "2"})
        log.error("unexpected %s while serving a request", name)
        return _error(500, "internal_error", "Unexpected server error.")


def create_api(service: ScribeService, auth: TokenAuth, sse_ping_s: float = 15.0) -> FastAPI:
    """Build the FastAPI app around ``service``."""
    app = FastAPI(title="Clinical scribe API", version="1.0", docs_url=None, redoc_url=None,
                  openapi_url=None, responses=_ERRORS)
    install_error_handlers(app)
    limits = service.limits
    store = service.store

    def clinician(authorization: str | None = Header(None)) -> str:
        return auth.clinician(authorization)

    @app.get("/healthz", response_model=Health, responses={503: {"model": Health}})
    async def healthz():
        parts = await service.health()
        ok = all(v == "ok" for v in parts.values())
        return JSONResponse({"status": "ok" if ok else "starting", "deployments": parts},
                            status_code=200 if ok else 503)

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi(_: str = Depends(clinician)):
        return app.openapi()

    @app.get("/docs", include_in_schema=False)
    async def docs(_: str = Depends(clinician)):
        return get_swagger_ui_html(openapi_url="/openapi.json", title="Clinical scribe API")

    @app.post("/v1/sessions", status_code=201, response_model=CreateSessionResponse)
    async def create_session(request: Request, who: str = Depends(clinician),
                             idempotency_key: str | None = Header(None)):
        body = await read_body(request, limits.max_json_bytes)
        result = await service.create_session(who, body, idempotency_key)
        return {"session_id": result["session_id"]}

    @app.get("/v1/sessions", response_model=list[SessionSummary])
    async def list_sessions(who: str = Depends(clinician)):
        return await store.list_sessions(who)

    @app.put("/v1/sessions/{sid}/audio/{seq}", status_code=202, response_model=ChunkAccepted,
             openapi_extra={"requestBody": {"content": {t: {"schema": {"type": "string", "format": "binary"}}
                                                        for t in ("audio/wav", "audio/flac", "audio/ogg",
                                                                  "audio/webm", "audio/L16")}}})
    async def put_audio(sid: str, seq: int, request: Request, who: str = Depends(clinician)):
        data = await read_body(request, limits.max_chunk_bytes)
        return await service.put_chunk(who, sid, seq, data, request.headers.get("content-type"))

    @app.post("/v1/sessions/{sid}/segments", status_code=202, response_model=SegmentsAccepted)
    async def post_segments(sid: str, request: Request, who: str = Depends(clinician),
                            idempotency_key: str | None = Header(None)):
        body = await read_body(request, limits.max_json_bytes)
        return await service.add_segments(who, sid, body, idempotency_key)

    @app.patch("/v1/sessions/{sid}/segments/{segment_id}", status_code=200)
    async def correct_role(sid: str, segment_id: str, request: Request, who: str = Depends(clinician)):
        body = await read_body(request, limits.max_json_bytes)
        return await service.correct_role(who, sid, segment_id, body)

    @app.post("/v1/sessions/{sid}/finish", status_code=202, response_model=FinishAccepted)
    async def finish(sid: str, who: str = Depends(clinician)):
        return await service.finish(who, sid)

    @app.get("/v1/sessions/{sid}")
    async def get_state(sid: str, who: str = Depends(clinician)) -> dict[str, Any]:
        return await store.get_state(who, sid)

    @app.get("/v1/sessions/{sid}/names")
    async def get_names(sid: str, response: Response, who: str = Depends(clinician)) -> dict[str, str]:
        response.headers["Cache-Control"] = "no-store"
        return await store.get_names(who, sid)

    @app.post("/v1/sessions/{sid}/feedback", status_code=201, response_model=FeedbackAccepted)
    async def feedback(sid: str, request: Request, who: str = Depends(clinician),
                       idempotency_key: str | None = Header(None)):
        body = await read_body(request, limits.max_json_bytes)
        return await service.feedback(who, sid, body, idempotency_key)

    @app.delete("/v1/sessions/{sid}", status_code=204)
    async def delete_session(sid: str, who: str = Depends(clinician)):
        await store.delete_session(who, sid)
        return Response(status_code=204)

    @app.get("/v1/sessions/{sid}/events")
    async def events(sid: str, request: Request, who: str = Depends(clinician),
                     last_event_id: str | None = Header(None),
                     after: int | None = Query(None, ge=0, description="Resume after this event id.")):
        try:
            start = int(last_event_id) if last_event_id else (after or 0)
        except ValueError:
            raise ScribeError("Last-Event-ID must be an integer.", code="invalid_last_event_id") from None
        await store.session_exists(who, sid)

        async def stream():
            cursor = start
            while not await request.is_disconnected():
                try:
                    batch = await store.wait_events(who, sid, cursor, timeout_s=min(10.0, sse_ping_s))
                except NotFound:
                    yield ServerSentEvent(event="deleted", data=json.dumps({"session_id": sid}))
                    return
                for event in batch["events"]:
                    cursor = event["id"]
                    yield ServerSentEvent(id=str(event["id"]), event=event["type"], data=json.dumps(event))
                if batch["finished"]:
                    return

        return EventSourceResponse(stream(), ping=sse_ping_s,
                                   headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    return app
