"""A deadline for every request's answer to *start* (review M6/H4).

A request whose response has not begun after ``timeout_s`` (a store that is restarting, a replica
that is gone) gets ``503 request_timeout`` with ``Retry-After`` instead of holding its connection
and ingress slot indefinitely; its work is cancelled (store calls are cancelled in the actor too).
Once a response has started it runs to its end: streams (the API's event streams, the UI's Gradio
queue and heartbeat) have their own limits (:mod:`serve_app.ingress.streams`, Gradio's own), and a
deadline on their whole length would cut them.
"""
from __future__ import annotations

import asyncio
import contextlib
import json

__all__ = ["RequestDeadline"]


class RequestDeadline:
    """Pure ASGI middleware: 503 if no response has started within ``timeout_s``."""

    def __init__(self, app, timeout_s: float):
        self.app, self.timeout_s = app, timeout_s

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = asyncio.Event()

        async def tracked_send(message):
            if message["type"] == "http.response.start":
                started.set()
            await send(message)

        handler = asyncio.ensure_future(self.app(scope, receive, tracked_send))
        answered = asyncio.ensure_future(started.wait())
        try:
            await asyncio.wait({handler, answered}, timeout=self.timeout_s, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:  # the client or Serve gave up: so does the handler
            handler.cancel()
            raise
        finally:
            answered.cancel()
        if handler.done() or started.is_set():
            return await handler
        handler.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await handler
        body = json.dumps({"error": {"code": "request_timeout", "message": "No answer within "
                                     f"{self.timeout_s:g} s; nothing more will be done for it. Retry."}}).encode()
        await send({"type": "http.response.start", "status": 503,
                    "headers": [(b"content-type", b"application/json"), (b"retry-after", b"2"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
