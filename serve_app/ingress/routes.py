"""The FastAPI app: API.md's routes, one small router per surface.

Routes are thin: they authenticate, read the bounded body, and call
:class:`~serve_app.ingress.service.ScribeService` (never the store directly).
Errors are mapped in :mod:`serve_app.ingress.errors`; nothing here logs request bodies.
"""
from __future__ import annotations

from typing import Callable, Literal

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request, Response
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import JSONResponse, PlainTextResponse
from sse_starlette import EventSourceResponse
from starlette.background import BackgroundTask

from serve_app.contracts import Segment, SessionStateDoc, SessionSummaryDoc
from serve_app.errors import ScribeError
from serve_app.ingress.auth import TokenAuth
from serve_app.ingress.bodies import read_limited
from serve_app.ingress.deadline import RequestDeadline
from serve_app.ingress.errors import ERROR_RESPONSES, install_error_handlers
from serve_app.ingress.events import EVENTS_PATH, add_event_catalogue, event_stream
from serve_app.ingress.export import FHIR_MEDIA_TYPE
from serve_app.ingress.fast_chunks import FastChunkUploads
from serve_app.ingress.fast_reads import FastStateReads, StateReadAnswer
from serve_app.ingress.schemas import (
    ChunkAccepted,
    CreateSessionResponse,
    ErasurePending,
    FeedbackAccepted,
    FinishAccepted,
    Health,
    SegmentsAccepted,
)
from serve_app.ingress.service import ScribeService
from serve_app.ingress.streams import StreamSlots
from serve_app.log_context import SessionLogMiddleware

__all__ = ["create_api", "read_body"]

_AUDIO_TYPES = ("audio/wav", "audio/flac", "audio/ogg", "audio/webm", "audio/L16")


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, or 413 as soon as it passes ``limit`` bytes (:func:`read_limited`)."""
    return await read_limited(request.scope, request.receive, limit)


def _meta_routes(app: FastAPI, service: ScribeService, clinician: Callable, known: Callable[[str], bool]) -> None:
    @app.get("/healthz", response_model=Health, responses={503: {"model": Health}})
    async def healthz(authorization: str | None = Header(None)):
        parts = await service.health()
        ok = all(v == "ok" for v in parts.values())
        body = {"status": "ok" if ok else "starting"}
        if authorization and known(authorization):  # the topology only for a clinician (review M7)
            body["deployments"] = parts
        return JSONResponse(body, status_code=200 if ok else 503)

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi(_: str = Depends(clinician)):
        return app.openapi()

    @app.get("/docs", include_in_schema=False)
    async def docs(_: str = Depends(clinician)):
        return get_swagger_ui_html(openapi_url="/openapi.json", title="Clinical scribe API")


def _session_routes(service: ScribeService, clinician: Callable) -> APIRouter:
    router = APIRouter(prefix="/v1/sessions", tags=["sessions"])
    max_json = service.limits.max_json_bytes

    @router.post("", status_code=201, response_model=CreateSessionResponse)
    async def create_session(request: Request, who: str = Depends(clinician),
                             idempotency_key: str | None = Header(None)):
        result = await service.create_session(who, await read_body(request, max_json), idempotency_key)
        return {"session_id": result["session_id"]}

    @router.get("", response_model=list[SessionSummaryDoc])
    async def list_sessions(who: str = Depends(clinician)):
        return await service.list_sessions(who)

    @router.get("/{sid}", response_model=SessionStateDoc)
    async def get_state(sid: str, who: str = Depends(clinician)):
        return Response(await service.get_state_json(who, sid), media_type="application/json")

    @router.get("/{sid}/names", response_model=dict[str, str])
    async def get_names(sid: str, response: Response, who: str = Depends(clinician)):
        response.headers["Cache-Control"] = "no-store"
        return await service.get_names(who, sid)

    @router.post("/{sid}/finish", status_code=202, response_model=FinishAccepted)
    async def finish(sid: str, who: str = Depends(clinician)):
        return await service.finish(who, sid)

    @router.delete("/{sid}", status_code=204, responses={202: {"model": ErasurePending}})
    async def delete_session(sid: str, who: str = Depends(clinician)):
        pending = await service.delete_session(who, sid)
        if pending:  # never a 204 until everything is erased; the rest is retried in the background
            return JSONResponse(ErasurePending(pending=pending).model_dump(), status_code=202)
        return Response(status_code=204)

    return router


def _transcript_routes(service: ScribeService, clinician: Callable) -> APIRouter:
    router = APIRouter(prefix="/v1/sessions/{sid}", tags=["transcript"])
    limits = service.limits

    @router.put("/audio/{seq}", status_code=202, response_model=ChunkAccepted,
                openapi_extra={"requestBody": {"content": {t: {"schema": {"type": "string", "format": "binary"}}
                                                           for t in _AUDIO_TYPES}}})
    async def put_audio(sid: str, seq: int, request: Request, who: str = Depends(clinician)):
        data = await read_body(request, limits.max_chunk_bytes)
        return await service.put_chunk(who, sid, seq, data, request.headers.get("content-type"))

    @router.post("/segments", status_code=202, response_model=SegmentsAccepted)
    async def post_segments(sid: str, request: Request, who: str = Depends(clinician),
                            idempotency_key: str | None = Header(None)):
        body = await read_body(request, limits.max_json_bytes)
        return await service.add_segments(who, sid, body, idempotency_key)

    @router.patch("/segments/{segment_id}", status_code=200, response_model=Segment)
    async def correct_role(sid: str, segment_id: str, request: Request, who: str = Depends(clinician)):
        body = await read_body(request, limits.max_json_bytes)
        return await service.correct_role(who, sid, segment_id, body)

    return router


def _feedback_routes(service: ScribeService, clinician: Callable) -> APIRouter:
    router = APIRouter(prefix="/v1/sessions/{sid}", tags=["feedback"])

    @router.post("/feedback", status_code=201, response_model=FeedbackAccepted)
    async def feedback(sid: str, request: Request, who: str = Depends(clinician),
                       idempotency_key: str | None = Header(None)):
        body = await read_body(request, service.limits.max_json_bytes)
        return await service.feedback(who, sid, body, idempotency_key)

    return router


def _export_routes(service: ScribeService, clinician: Callable) -> APIRouter:
    router = APIRouter(prefix="/v1/sessions/{sid}", tags=["export"])

    @router.get("/export", response_class=Response, responses={
        200: {"content": {"text/plain": {"schema": {"type": "string"}},
                          FHIR_MEDIA_TYPE: {"schema": {"type": "object", "description": "FHIR DocumentReference"}}},
              "description": "The note with the real names restored (owner only)."}})
    async def export(sid: str, who: str = Depends(clinician),
                     fmt: Literal["text", "fhir"] = Query("text", alias="format", description="text or fhir")):
        body = await service.export(who, sid, fmt)
        headers = {"Cache-Control": "no-store"}
        if fmt == "fhir":
            return JSONResponse(body, media_type=FHIR_MEDIA_TYPE, headers=headers)
        return PlainTextResponse(body, headers=headers)

    return router


def _event_routes(service: ScribeService, clinician: Callable, sse_ping_s: float) -> APIRouter:
    router = APIRouter(tags=["events"])
    limits = service.limits
    slots = StreamSlots(limits.max_streams_per_session, limits.max_streams_per_clinician,
                        limits.stream_max_lifetime_s)

    @router.get(EVENTS_PATH)
    async def events(sid: str, request: Request, who: str = Depends(clinician),
                     last_event_id: str | None = Header(None),
                     after: int | None = Query(None, ge=0, description="Resume after this event id.")):
        try:
            start = int(last_event_id) if last_event_id else (after or 0)
        except ValueError:
            raise ScribeError("Last-Event-ID must be an integer.", code="invalid_last_event_id") from None
        await service.session_exists(who, sid)
        slot = slots.acquire(who, sid)  # 429 too_many_streams beyond the caps
        stream = event_stream(service, who, sid, start, min(10.0, sse_ping_s), request.is_disconnected, slot,
                              limits.stream_max_lifetime_s)
        return EventSourceResponse(stream, ping=sse_ping_s, send_timeout=limits.stream_send_timeout_s,
                                   background=BackgroundTask(slot.release),  # if the stream never started
                                   headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    return router


def create_api(service: ScribeService, auth: TokenAuth, sse_ping_s: float = 15.0,
               fast_uploads: bool = True) -> FastAPI:
    """Build the FastAPI app around ``service``.

    The state read is answered ahead of FastAPI (:mod:`~serve_app.ingress.fast_reads`); so is the chunk
    upload with ``fast_uploads`` (default, :mod:`~serve_app.ingress.fast_chunks`), with the same answers
    as its FastAPI route, which serves it when False (the tests compare the two).  ``app.state.state_read``
    is the state read's :class:`StateReadAnswer`, for the replica's HTTP server
    (:mod:`~serve_app.ingress.server_reads`).
    """
    app = FastAPI(title="Clinical scribe API", version="1.0", docs_url=None, redoc_url=None,
                  openapi_url=None, responses=ERROR_RESPONSES)
    install_error_handlers(app)
    app.add_middleware(RequestDeadline, timeout_s=service.limits.request_timeout_s)
    app.add_middleware(SessionLogMiddleware)

    async def clinician(authorization: str | None = Header(None)) -> str:
        # async: FastAPI runs a plain ``def`` dependency in a worker thread, per request (a profile of
        # 64 readers had 12 % of the ingress's CPU in that hand-off); checking a token never blocks.
        return auth.clinician(authorization)

    def known(authorization: str) -> bool:
        try:
            auth.clinician(authorization)
            return True
        except ScribeError:
            return False

    _meta_routes(app, service, clinician, known)
    for router in (_session_routes(service, clinician), _transcript_routes(service, clinician),
                   _feedback_routes(service, clinician), _export_routes(service, clinician),
                   _event_routes(service, clinician, sse_ping_s)):
        app.include_router(router)
    add_event_catalogue(app)
    if fast_uploads:  # the chunk upload skips routing and dependency solving (same auth, errors, deadline)
        app.add_middleware(FastChunkUploads, clinician=auth.clinician, put_chunk=service.put_chunk,
                           max_bytes=service.limits.max_chunk_bytes, timeout_s=service.limits.request_timeout_s)
    # outermost: the polled state read skips routing too; it also tells the snapshots about every write
    app.state.state_read = StateReadAnswer(auth.clinician, service.get_state_json, service.limits.request_timeout_s)
    app.add_middleware(FastStateReads, answer=app.state.state_read, written=service.written)
    return app
