"""PII deployment: Presidio masking with session-consistent placeholders."""
from __future__ import annotations

import asyncio
from typing import Any, Callable

from ray import serve

from serve_app.config import PiiConfig
from serve_app.engines.pii.engine import MaskResult, PiiEngine, PiiMasker, mask_segments
from serve_app.metrics import record, timed
from serve_app.tunables import applied

__all__ = ["PII"]


@serve.deployment(name="PII")
class PII:
    """Wraps a :class:`PiiMasker`; spaCy and Presidio load once per replica
    (``engine``, a zero-argument factory, replaces them in the graph test tier)."""

    def __init__(self, config: PiiConfig, engine: Callable[[], PiiMasker] | None = None):
        self._config = config
        self._engine = engine() if engine is not None else PiiEngine.from_config(config)

    def reconfigure(self, user_config: dict) -> None:
        """Serve's ``user_config``: ``score_threshold`` applied to the live engine (no model reload)."""
        self._config = applied(self._config, "pii", user_config)
        tune = getattr(self._engine, "tune", None)
        if tune is not None:
            tune(score_threshold=self._config.score_threshold)

    async def thresholds(self) -> dict:
        """The thresholds in force (ops, tests)."""
        return {"score_threshold": self._config.score_threshold}

    async def ready(self) -> bool:
        return True

    async def mask_segments(self, segments: list[dict[str, Any]],
                            names: dict[str, str]) -> tuple[list[dict[str, Any]], dict[str, str]]:
        """Mask segments against the session map; returns (masked, new placeholders)."""
        def run() -> tuple[list[dict[str, Any]], dict[str, str]]:
            with timed("pii"):
                return mask_segments(_Counted(self._engine), segments, names)

        return await asyncio.to_thread(run)


class _Counted:
    """A masker that counts what it masks by entity type (``scribe_phi_detections_total``; never values)."""

    def __init__(self, masker: PiiMasker):
        self._masker = masker

    def mask(self, text: str, names: dict[str, str]) -> MaskResult:
        result = self._masker.mask(text, names)
        for span in result.spans:
            record("phi_detections_total", 1, entity_type=span.entity_type)
        return result
