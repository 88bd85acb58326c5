"""A note model served elsewhere behind an OpenAI-compatible chat API.

For production a bigger model runs on its own servers (``vllm serve``, a Ray
Serve LLM app, any OpenAI-compatible gateway).  The JSON schema is sent as
``response_format: json_schema`` (honoured by vLLM's server with the same
structured-output backends as the in-process engine).  The API key is read
from the environment variable named in the config, never from the YAML.
"""
from __future__ import annotations

import os
from typing import Any

import httpx

__all__ = ["OpenAINoteEngine"]


class OpenAINoteEngine:
    """``POST {base_url}/chat/completions`` with a JSON-schema response format.

    Args:
        base_url: e.g. ``http://llm.internal:8000/v1``.
        model: the served model name.
        api_key_env: name of the environment variable holding the key (optional).
        timeout_s: per-request timeout.
        transport: an ``httpx`` transport (tests use a mock one).
    """

    def __init__(self, base_url: str, model: str, api_key_env: str | None = None, timeout_s: float = 120.0,
                 temperature: float = 0.0, transport: httpx.AsyncBaseTransport | None = None):
        headers = {}
        key = os.environ.get(api_key_env) if api_key_env else None
        if key:
            headers["Authorization"] = f"Bearer {key}"
        self._client = httpx.AsyncClient(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout_s,
                                         transport=transport)
        self._model = model
        self._temperature = temperature

    async def complete(self, messages: list[dict[str, str]], schema: dict[str, Any], max_tokens: int) -> str:
        body = {
            "model": self._model,
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": self._temperature,
            "response_format": {"type": "json_schema",
                                "json_schema": {"name": "note_section", "schema": schema, "strict": True}},
        }
        response = await self._client.post("/chat/completions", json=body)
        response.raise_for_status()
        return response.json()["choices"][0]["message"].get("content") or ""

    async def check_health(self) -> None:
        """Nothing to check here: the model runs in another service, whose outage fails requests (and
        drafts are retried) but is not cured by restarting this replica."""

    async def close(self) -> None:
        await self._client.aclose()
