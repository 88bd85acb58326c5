"""A small HTTP client for the scribe API used by integration and e2e tests."""
from __future__ import annotations

import time

import httpx

__all__ = ["ScribeClient"]


class ScribeClient:
    def __init__(self, base_url: str, token: str, timeout: float = 60.0):
        self.base_url = base_url
        self.http = httpx.Client(base_url=base_url, timeout=timeout,
                                 headers={"Authorization": f"Bearer {token}"})

    def create_session(self, **body) -> str:
        r = self.http.post("/v1/sessions", json=body)
        assert r.status_code == 201, r.text
        return r.json()["session_id"]

    def put_chunk(self, sid: str, seq: int, data: bytes, content_type: str = "audio/wav") -> httpx.Response:
        return self.http.put(f"/v1/sessions/{sid}/audio/{seq}", content=data,
                             headers={"Content-Type": content_type})

    def state(self, sid: str) -> dict:
        r = self.http.get(f"/v1/sessions/{sid}")
        assert r.status_code == 200, r.text
        return r.json()

    def finish(self, sid: str) -> None:
        r = self.http.post(f"/v1/sessions/{sid}/finish", json={})
        assert r.status_code == 202, r.text

    def wait_finished(self, sid: str, timeout: float = 300.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.state(sid)
            if state["status"] == "finished":
                return state
            time.sleep(0.3)
        raise AssertionError(f"session did not finish in {timeout}s: {state['chunks']}")

    @staticmethod
    def transcript(state: dict) -> str:
        return " ".join(s["text"] for s in state["segments"])
