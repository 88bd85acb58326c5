"""``GET /v1/sessions/{sid}/events``: the session's events as Server-Sent Events, and the
event catalogue in the OpenAPI document.

Each SSE message has ``id`` (the event id; ``Last-Event-ID`` resumes after it), ``event``
(the type) and ``data`` (the whole event as JSON: ``{id, type, ts, data}``).  The stream
sends heartbeats, ends after ``finished``, and sends ``deleted`` if the session is
erased while it is open.  Every type and the model of its ``data`` are listed in
:data:`serve_app.contracts.EVENT_DATA`; :func:`add_event_catalogue` publishes them.
"""
from __future__ import annotations

import json
import time
from typing import Any, AsyncIterator, Callable

from fastapi import FastAPI
from sse_starlette import ServerSentEvent

from serve_app.contracts import event_catalogue_schema
from serve_app.errors import NotFound
from serve_app.ingress.service import ScribeService
from serve_app.ingress.streams import Slot

__all__ = ["event_stream", "add_event_catalogue", "EVENTS_PATH"]

EVENTS_PATH = "/v1/sessions/{sid}/events"


async def event_stream(service: ScribeService, who: str, sid: str, start: int, poll_s: float,
                       disconnected: Callable[[], Any], slot: Slot | None = None,
                       lifetime_s: float = float("inf")) -> AsyncIterator[ServerSentEvent]:
    """Events of ``sid`` after ``start`` until the session finishes, is deleted, the client leaves or
    the stream has lived ``lifetime_s`` (the client then resumes with ``Last-Event-ID``); ``slot`` is
    released however the stream ends."""
    cursor, until = start, time.monotonic() + lifetime_s
    try:
        while not await disconnected() and time.monotonic() < until:
            try:
                wait_s = min(poll_s, max(0.1, until - time.monotonic()))
                batch = await service.wait_events(who, sid, cursor, timeout_s=wait_s)
            except NotFound:
                yield ServerSentEvent(event="deleted", data=json.dumps({"id": cursor, "type": "deleted", "ts": 0.0,
                                                                       "data": {"session_id": sid}}))
                return
            for event in batch["events"]:
                cursor = event["id"]
                yield ServerSentEvent(id=str(event["id"]), event=event["type"],
                                      data=json.dumps(event, allow_nan=False))
            if batch["finished"]:
                return
    finally:
        if slot is not None:
            slot.release()


def add_event_catalogue(app: FastAPI) -> None:
    """Make ``app.openapi()`` document every event: the stream's response schema is a ``oneOf``
    over the event envelopes, and ``x-event-catalogue`` maps each type to its data model."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        catalogue, definitions = event_catalogue_schema()
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        schemas.update(definitions)
        envelopes = []
        for kind, entry in catalogue.items():
            name = f"SSE_{kind}"
            schemas[name] = {"title": name, "description": entry["description"], "type": "object",
                             "required": ["id", "type", "ts", "data"],
                             "properties": {"id": {"type": "integer"}, "type": {"const": kind},
                                            "ts": {"type": "number"}, "data": entry["data"]}}
            envelopes.append({"$ref": f"#/components/schemas/{name}"})
        operation = schema["paths"][EVENTS_PATH]["get"]
        operation["responses"]["200"] = {
            "description": "Server-Sent Events; each message's data is one of these events (JSON).",
            "content": {"text/event-stream": {"schema": {"oneOf": envelopes,
                                                         "discriminator": {"propertyName": "type"}}}},
        }
        operation["x-event-catalogue"] = catalogue
        app.openapi_schema = schema
        return schema

    app.openapi = openapi
