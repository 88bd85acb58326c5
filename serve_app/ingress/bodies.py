"""Request bodies read with a bound: 413 as soon as a body passes its limit, declared or streamed."""
from __future__ import annotations

from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect

from serve_app.errors import PayloadTooLarge

__all__ = ["read_limited"]


async def read_limited(scope, receive, limit: int) -> bytes:
    """The body of the ASGI request ``scope`` read from ``receive``.

    Raises:
        PayloadTooLarge: the declared ``Content-Length`` or the bytes received pass ``limit`` (checked
            as each piece arrives, so an endless body costs at most ``limit`` bytes).
        ClientDisconnect: the client went away before the whole body arrived (as Starlette raises).
    """
    declared = Headers(scope=scope).get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The body is larger than {limit} bytes.")
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        piece = message.get("body", b"")
        size += len(piece)
        if size > limit:
            raise PayloadTooLarge(f"The body is larger than {limit} bytes.")
        chunks.append(piece)
        if not message.get("more_body", False):
            return b"".join(chunks)
