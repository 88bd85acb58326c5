"""The page's only way into the service: the public HTTP API v1, over HTTP.

:class:`ScribeApi` is a small async client for ``API.md`` (bearer token per
instance, typed error bodies turned into :class:`ApiError`), including the
session's Server-Sent Events with ``Last-Event-ID`` resumption.  Any other front
end can do what the page does with the same calls.
"""
from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any, AsyncIterator

import httpx

__all__ = ["ApiError", "ScribeApi", "plain_words"]

#: The API's error codes as a clinician should read them (others fall back to the API's sentence).
_PLAIN = {
    "invalid_token": "That token was not accepted. Check it and sign in again.",
    "missing_token": "Sign in with your access token first.",
    "unauthorized": "That token was not accepted. Check it and sign in again.",
    "session_not_found": "That session no longer exists, or it is not yours.",
    "not_found": "That session no longer exists, or it is not yours.",
    "overloaded": "The service is busy right now; the page keeps trying.",
    "backlog_full": "The service is still working through this session's audio; the page keeps trying.",
    "not_ready": "The models are still loading. Try again in a moment.",
    "chunk_conflict": "A recording piece clashed with one already stored, so it was not saved.",
    "chunk_too_late": "The session was already finished when this recording piece arrived.",
    "session_finished": "This session is finished and takes no more recording.",
    "payload_too_large": "That recording piece is too large for the service.",
    "chunk_too_long": "That recording piece is too long for the service.",
    "unsupported_media_type": "That audio format is not supported.",
    "invalid_audio": "That audio could not be read.",
    "empty_audio": "That audio is empty.",
    "no_note": "There is no note yet.",
    "unknown_note_version": "The note changed while you were reviewing; review the newest version.",
    "segment_not_found": "That transcript line no longer exists.",
    "feedback_unavailable": "Your review could not be saved right now; please try again.",
    "unreachable": "The service cannot be reached. Check the connection; the page keeps trying.",
}


@dataclass
class ApiError(Exception):
    """An API answer other than 2xx: HTTP ``status``, the body's ``code`` and ``message``."""

    status: int
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"

    @property
    def retryable(self) -> bool:
        """Worth sending again unchanged (service busy, restarting or unreachable)."""
        return self.status in (0, 429, 502, 503, 504)


def plain_words(error: Exception) -> str:
    """A sentence for the clinician (never a stack trace, never PHI beyond the API's own message)."""
    if isinstance(error, ApiError):
        return _PLAIN.get(error.code, error.message)
    return "Something went wrong; please try again."


async def _raise_for(response: httpx.Response) -> None:
    if response.is_success:
        return
    await response.aread()
    try:
        body = response.json()["error"]
        code, message = str(body["code"]), str(body["message"])
    except (ValueError, KeyError, TypeError):
        code, message = f"http_{response.status_code}", response.reason_phrase or "error"
    raise ApiError(response.status_code, code, message)


class ScribeApi:
    """One clinician's client for the API at ``base_url`` (e.g. ``http://127.0.0.1:8000``)."""

    def __init__(self, base_url: str, token: str, timeout_s: float = 30.0,
                 transport: httpx.AsyncBaseTransport | None = None):
        self._base = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}"}
        self._timeout = httpx.Timeout(timeout_s, connect=5.0)
        self._transport = transport

    def _client(self, timeout: httpx.Timeout | None = None) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self._base, headers=self._headers, transport=self._transport,
                                 timeout=timeout or self._timeout)

    async def _call(self, method: str, path: str, **kwargs) -> httpx.Response:
        try:
            async with self._client() as client:
                response = await client.request(method, path, **kwargs)
                await _raise_for(response)
                return response
        except httpx.HTTPError as exc:
            raise ApiError(0, "unreachable", type(exc).__name__) from None

    # sessions ---------------------------------------------------------------------------------
    async def check_token(self) -> None:
        """Raise :class:`ApiError` (401) unless the token is accepted."""
        await self._call("GET", "/v1/sessions")

    async def create_session(self) -> str:
        return (await self._call("POST", "/v1/sessions", json={})).json()["session_id"]

    async def list_sessions(self) -> list[dict[str, Any]]:
        return (await self._call("GET", "/v1/sessions")).json()

    async def state(self, sid: str) -> dict[str, Any]:
        return (await self._call("GET", f"/v1/sessions/{sid}")).json()

    async def names(self, sid: str) -> dict[str, str]:
        return (await self._call("GET", f"/v1/sessions/{sid}/names")).json()

    async def delete(self, sid: str) -> list[str]:
        """Erase the session; returns the erasure steps the service is still finishing ([]: all done)."""
        reply = await self._call("DELETE", f"/v1/sessions/{sid}")
        return reply.json().get("pending", []) if reply.status_code == 202 else []

    async def finish(self, sid: str) -> None:
        await self._call("POST", f"/v1/sessions/{sid}/finish", json={})

    # transcript -------------------------------------------------------------------------------
    async def put_audio(self, sid: str, seq: int, data: bytes, content_type: str = "audio/wav") -> None:
        """Store chunk ``seq``; a repeat with the same bytes is harmless (the API answers 202 again)."""
        await self._call("PUT", f"/v1/sessions/{sid}/audio/{seq}", content=data,
                         headers={"Content-Type": content_type})

    async def post_segments(self, sid: str, segments: list[dict[str, Any]], key: str | None = None) -> None:
        headers = {"Idempotency-Key": key} if key else {}
        await self._call("POST", f"/v1/sessions/{sid}/segments", json={"segments": segments}, headers=headers)

    async def correct_role(self, sid: str, segment_id: str, role: str) -> dict[str, Any]:
        return (await self._call("PATCH", f"/v1/sessions/{sid}/segments/{segment_id}", json={"role": role})).json()

    # review -----------------------------------------------------------------------------------
    async def feedback(self, sid: str, body: dict[str, Any], key: str | None = None) -> str:
        headers = {"Idempotency-Key": key} if key else {}
        answer = await self._call("POST", f"/v1/sessions/{sid}/feedback", json=body, headers=headers)
        return answer.json()["feedback_id"]

    async def export(self, sid: str, fmt: str) -> str:
        return (await self._call("GET", f"/v1/sessions/{sid}/export", params={"format": fmt})).text

    # events -----------------------------------------------------------------------------------
    async def events(self, sid: str, after: int = 0, retry_s: float = 1.0) -> AsyncIterator[dict[str, Any]]:
        """The session's events after ``after``, for as long as the session lives.

        Reconnects after a dropped connection with ``Last-Event-ID`` set to the last event
        seen, so nothing is lost or repeated.  Ends after ``finished`` or ``deleted``; raises
        :class:`ApiError` for a 4xx (wrong token, unknown session)."""
        cursor = after
        while True:
            try:
                async for event in self._stream(sid, cursor):
                    cursor = max(cursor, int(event.get("id") or cursor))
                    yield event
                    if event.get("type") in ("finished", "deleted"):
                        return
            except ApiError as exc:
                if not exc.retryable:
                    raise
            except (httpx.HTTPError, ValueError):
                pass
            await asyncio.sleep(retry_s)

    async def _stream(self, sid: str, cursor: int) -> AsyncIterator[dict[str, Any]]:
        headers = {"Accept": "text/event-stream", "Last-Event-ID": str(cursor)}
        timeout = httpx.Timeout(connect=5.0, read=60.0, write=10.0, pool=5.0)
        async with self._client(timeout) as client:
            async with client.stream("GET", f"/v1/sessions/{sid}/events", headers=headers) as response:
                await _raise_for(response)
                data: list[str] = []
                async for line in response.aiter_lines():
                    if line.startswith("data:"):
                        data.append(line[5:].lstrip())
                    elif not line and data:
                        yield json.loads("\n".join(data))
                        data = []
