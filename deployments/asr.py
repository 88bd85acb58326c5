"""ASR deployment: faster-whisper with VAD and word timings, on CPU."""
from __future__ import annotations

import asyncio
from typing import Callable

import numpy as np
from ray import serve

from serve_app.config import AsrConfig
from serve_app.engines.asr.protocol import AsrBackend, AsrSegment

__all__ = ["ASR", "build_asr_engine"]


def build_asr_engine(cfg: AsrConfig, model_cache: str) -> AsrBackend:
    """The faster-whisper engine for ``cfg.model`` (packaged tiny.en / base, or a local path)."""
    from serve_app.engines.asr.models import resolve_whisper_model
    from serve_app.engines.asr.whisper import FasterWhisperEngine

    path = resolve_whisper_model(cfg.model, model_cache)
    return FasterWhisperEngine(path, cfg.compute_type, cfg.cpu_threads, cfg.beam_size, cfg.language, cfg.vad_filter)


@serve.deployment(name="ASR")
class ASR:
    """Wraps an :class:`AsrBackend`; the model loads once per replica.

    ``engine`` (a zero-argument factory) replaces the configured engine: the graph
    test tier runs the real graph with deterministic fakes this way.
    """

    def __init__(self, config: AsrConfig, model_cache: str, engine: Callable[[], AsrBackend] | None = None):
        self._engine = engine() if engine is not None else build_asr_engine(config, model_cache)

    async def ready(self) -> bool:
        return True

    async def transcribe(self, samples: np.ndarray) -> list[AsrSegment]:
        """16 kHz mono float32 -> segments with word timings (seconds from sample 0)."""
        return await asyncio.to_thread(self._engine.transcribe, samples)
