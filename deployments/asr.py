"""ASR deployment: faster-whisper with VAD and word timings, on CPU."""
from __future__ import annotations

import asyncio

import numpy as np
from ray import serve

from serve_app.config import AsrConfig
from serve_app.engines.asr.protocol import AsrSegment
from serve_app.engines.asr.whisper import FasterWhisperEngine
from serve_app.engines.asr.models import resolve_whisper_model

__all__ = ["ASR"]


@serve.deployment(name="ASR")
class ASR:
    """Wraps :class:`FasterWhisperEngine`; the model loads once per replica."""

    def __init__(self, config: dict, model_cache: str):
        cfg = AsrConfig(**config)
        path = resolve_whisper_model(cfg.model, model_cache)
        self._engine = FasterWhisperEngine(path, cfg.compute_type, cfg.cpu_threads, cfg.beam_size,
                                           cfg.language, cfg.vad_filter)
        self.model = cfg.model

    async def ready(self) -> bool:
        return True

    async def transcribe(self, samples: np.ndarray) -> list[AsrSegment]:
        """16 kHz mono float32 -> segments with word timings (seconds from sample 0)."""
        return await asyncio.to_thread(self._engine.transcribe, samples)
