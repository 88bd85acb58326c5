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
import json
from typing import Awaitable, Callable

from starlette.requests import ClientDisconnect

from serve_app.ingress.errors import error_response

__all__ = ["RequestDeadline", "answer_json_within", "send_request_timeout"]


class RequestDeadline:
    """Pure ASGI middleware: 503 if no response has started within ``timeout_s``."""

    def __init__(self, app, timeout_s: float):
        self.app, self.timeout_s = app, timeout_s

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        # One timer on this task (no extra tasks per request): cancelled once the answer starts.
        deadline = asyncio.timeout(self.timeout_s)
        started = False

        async def tracked_send(message):
            nonlocal started
            if not started and message["type"] == "http.response.start":
                started = True
                deadline.reschedule(None)
            await send(message)

        try:
            async with deadline:  # past it the handler is cancelled (its store calls with it)
                await self.app(scope, receive, tracked_send)
        except TimeoutError:
            if started or not deadline.expired():  # a TimeoutError of the handler's own
                raise
            await send_request_timeout(send, self.timeout_s)


async def send_request_timeout(send, timeout_s: float) -> None:
    """Answer ``503 request_timeout`` with ``Retry-After`` (no response may have started yet)."""
    body = json.dumps({"error": {"code": "request_timeout", "message": "No answer within "
                                 f"{timeout_s:g} s; nothing more will be done for it. Retry."}}).encode()
    await send({"type": "http.response.start", "status": 503,
                "headers": [(b"content-type", b"application/json"), (b"retry-after", b"2"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def answer_json_within(scope, receive, send, timeout_s: float, status: int,
                             produce: Callable[[], Awaitable[bytes]]) -> None:
    """Answer ``status`` with the JSON body ``produce()`` returns, if it returns within ``timeout_s``.

    For the pure ASGI fast paths: past the deadline ``503 request_timeout`` (as
    :class:`RequestDeadline`), an error as the app's exception handlers map it
    (:func:`~serve_app.ingress.errors.error_response`), and nothing at all when the client left
    while its body was being read.
    """
    deadline = asyncio.timeout(timeout_s)
    try:
        async with deadline:
            body = await produce()
    except ClientDisconnect:  # nobody is listening
        return None
    except Exception as exc:  # noqa: BLE001 - mapped exactly as the exception handlers map it
        if isinstance(exc, TimeoutError) and deadline.expired():
            return await send_request_timeout(send, timeout_s)
        return await error_response(exc)(scope, receive, send)
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
