"""``PUT /v1/sessions/{sid}/audio/{seq}`` answered before FastAPI's routing and dependency solving.

Sixteen live consultations each upload a chunk every 2 s, and those uploads arrive together; a
py-spy profile of the ingress had about 45 % of a chunk upload's handling in Starlette's routing,
FastAPI's dependency solving, its response validation and the exception middleware, around one
token check, one bounded body read and one :meth:`ScribeService.put_chunk`.  That burst, in the one
ingress event loop, is where the state reads' tail comes from (issue 15).

This pure ASGI middleware answers exactly that route, in the same order and with the same answers as
the FastAPI route it shadows: 401 before the body is read, 413 as soon as the body passes the limit
(declared or streamed), then the service call, its ``ChunkAccepted`` as 202, and every error through
:func:`~serve_app.ingress.errors.error_response`.  A ``seq`` that is not plain ASCII digits is passed
on to FastAPI, so its validation answer stays FastAPI's.  The route stays declared in FastAPI for the
OpenAPI document (and answers when this middleware is not installed).
"""
from __future__ import annotations

import re
from typing import Awaitable, Callable

from starlette.datastructures import Headers

from serve_app.ingress.bodies import read_limited
from serve_app.ingress.deadline import answer_json_within
from serve_app.ingress.schemas import ChunkAccepted
from serve_app.log_context import enter_session

__all__ = ["FastChunkUploads"]

_CHUNK = re.compile(r"/v1/sessions/([^/]+)/audio/([0-9]{1,18})")


class FastChunkUploads:
    """Pure ASGI middleware for ``PUT /v1/sessions/{sid}/audio/{seq}``.

    Args:
        app: the rest of the application.
        clinician: ``Authorization`` header value -> clinician id, or raises the 401 ``ScribeError``.
        put_chunk: ``(clinician, sid, seq, data, content_type) -> dict`` (the service's chunk upload).
        max_bytes: the body limit (413 past it).
        timeout_s: no answer by then is ``503 request_timeout``, as :class:`RequestDeadline` does.
    """

    def __init__(self, app, clinician: Callable[[str | None], str],
                 put_chunk: Callable[[str, str, int, bytes, str | None], Awaitable[dict]],
                 max_bytes: int, timeout_s: float):
        self.app, self._clinician, self._put_chunk = app, clinician, put_chunk
        self._max_bytes, self._timeout_s = max_bytes, timeout_s

    async def __call__(self, scope, receive, send):
        match = _CHUNK.fullmatch(scope["path"]) if scope["type"] == "http" and scope["method"] == "PUT" else None
        if match is None:
            return await self.app(scope, receive, send)
        sid, seq = match.group(1), int(match.group(2))
        enter_session(sid)

        headers = Headers(scope=scope)

        async def accept() -> bytes:  # the route's order: 401, then 413 while reading, then the service
            who = self._clinician(headers.get("authorization"))
            data = await read_limited(scope, receive, self._max_bytes)
            result = await self._put_chunk(who, sid, seq, data, headers.get("content-type"))
            return ChunkAccepted.model_validate(result).model_dump_json().encode()

        await answer_json_within(scope, receive, send, self._timeout_s, 202, accept)
