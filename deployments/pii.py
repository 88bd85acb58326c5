"""PII deployment: Presidio masking with session-consistent placeholders."""
from __future__ import annotations

import asyncio

from ray import serve

from serve_app.config import PiiConfig
from serve_app.engines.pii.engine import PiiEngine, mask_segments

__all__ = ["PII"]


@serve.deployment(name="PII")
class PII:
    """Wraps :class:`PiiEngine`; spaCy and Presidio load once per replica."""

    def __init__(self, config: dict):
        self._engine = PiiEngine.from_config(PiiConfig(**config))

    async def ready(self) -> bool:
        return True

    async def mask_segments(self, segments: list[dict], names: dict[str, str]) -> tuple[list[dict], dict]:
        """Mask segments against the session map; returns (masked, new placeholders)."""
        return await asyncio.to_thread(mask_segments, self._engine, segments, names)
