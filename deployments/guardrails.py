"""Guardrails deployment: every note item checked against its cited segments."""
from __future__ import annotations

import asyncio
from typing import Callable

from ray import serve

from serve_app.config import GuardrailsConfig
from serve_app.contracts import Note, PromptSegment, Warning
from serve_app.engines.guardrails.engine import GuardrailEngine
from serve_app.engines.guardrails.protocol import NoteChecker
from serve_app.metrics import timed
from serve_app.priority import lower_priority
from serve_app.tunables import TUNABLE, applied

__all__ = ["Guardrails", "build_guardrail_engine"]


def build_guardrail_engine(cfg: GuardrailsConfig) -> GuardrailEngine:
    """The NLI backend if ``cfg.nli_model`` names a local model, else the offline default."""
    if cfg.nli_model:
        from serve_app.engines.guardrails.nli import NliSupport

        return GuardrailEngine(NliSupport(cfg.nli_model, entail_min=cfg.entail_min, contra_min=cfg.contra_min))
    from serve_app.engines.guardrails.support import EmbeddingSupport

    return GuardrailEngine(EmbeddingSupport(support_min=cfg.support_min, align_min=cfg.align_min, top_k=cfg.top_k,
                                             cache_size=cfg.embedding_cache))


@serve.deployment(name="Guardrails")
class Guardrails:
    """Wraps a :class:`NoteChecker`; the embedding or NLI model loads once per replica."""

    def __init__(self, config: GuardrailsConfig, engine: Callable[[], NoteChecker] | None = None):
        lower_priority()
        self._config = config
        self._engine = engine() if engine is not None else build_guardrail_engine(config)

    def reconfigure(self, user_config: dict) -> None:
        """Serve's ``user_config``: the thresholds of :data:`serve_app.tunables.TUNABLE` ["guardrails"],
        applied to the live engine (no model reload)."""
        self._config = applied(self._config, "guardrails", user_config)
        tune = getattr(self._engine, "tune", None)
        if tune is not None:
            tune(**{k: getattr(self._config, k) for k in TUNABLE["guardrails"]})

    async def thresholds(self) -> dict:
        """The thresholds in force (ops, tests)."""
        return {k: getattr(self._config, k) for k in TUNABLE["guardrails"]}

    async def ready(self) -> bool:
        return True

    async def check(self, note: Note | None, segments: list[PromptSegment]) -> list[Warning]:
        """Warnings ``{note_item, kind, message, evidence}`` for ``note`` against masked ``segments``."""
        def run() -> list[Warning]:
            with timed("guardrails"):
                return self._engine.check(note, segments)

        return await asyncio.to_thread(run)
