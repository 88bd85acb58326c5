"""A deadline for every request but the event streams (review M6/H4).

A request still unanswered after ``timeout_s`` (a store that is restarting, a replica that is
gone) gets ``503 request_timeout`` with ``Retry-After`` instead of holding its connection and
ingress slot indefinitely; its work is cancelled (store calls are cancelled in the actor too).
Event streams have their own limits (:mod:`serve_app.ingress.streams`).  If the response had
already started when the deadline passed, the connection is closed instead.
"""
from __future__ import annotations

import asyncio
import json
from typing import Callable

__all__ = ["RequestDeadline"]


class RequestDeadline:
    """Pure ASGI middleware (streams pass through untouched; ``exempt(path)`` selects them)."""

    def __init__(self, app, timeout_s: float, exempt: Callable[[str], bool]):
        self.app, self.timeout_s, self.exempt = app, timeout_s, exempt

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or self.exempt(scope.get("path", "")):
            return await self.app(scope, receive, send)
        started = False

        async def tracked_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await asyncio.wait_for(self.app(scope, receive, tracked_send), self.timeout_s)
        except asyncio.TimeoutError:
            if started:
                raise
            body = json.dumps({"error": {"code": "request_timeout", "message": "The request took longer than "
                                         f"{self.timeout_s:g} s; nothing more will be done for it. Retry."}}).encode()
            await send({"type": "http.response.start", "status": 503,
                        "headers": [(b"content-type", b"application/json"), (b"retry-after", b"2"),
                                    (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
