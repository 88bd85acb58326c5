"""ASR deployment: faster-whisper with VAD and word timings, on CPU."""
from __future__ import annotations

import asyncio
import sys
import time
from typing import Callable

import numpy as np
from ray import serve

from serve_app.config import AsrConfig
from serve_app.engines.asr.protocol import AsrBackend, AsrSegment
from serve_app.engines.audio import TARGET_RATE as SAMPLE_RATE
from serve_app.metrics import record

__all__ = ["ASR", "build_asr_engine"]


def build_asr_engine(cfg: AsrConfig, model_cache: str) -> AsrBackend:
    """The engine for ``cfg.backend``: faster-whisper for ``cfg.model`` (packaged tiny.en / base, or a
    local path), or WhisperX (in its own virtualenv, ``cfg.model`` already a local path: the builder
    resolves it, since that environment has no model packages)."""
    if cfg.backend == "whisperx":
        from serve_app.engines.asr.whisperx_engine import WhisperXEngine

        wx = cfg.whisperx
        return WhisperXEngine(cfg.model, cfg.compute_type, cfg.cpu_threads, cfg.language, wx.batch_size,
                              wx.chunk_size_s, wx.align_model, wx.vad_onset, wx.vad_offset)
    from serve_app.engines.asr.models import resolve_whisper_model
    from serve_app.engines.asr.whisper import FasterWhisperEngine

    path = resolve_whisper_model(cfg.model, model_cache)
    return FasterWhisperEngine(path, cfg.compute_type, cfg.cpu_threads, cfg.beam_size, cfg.language, cfg.vad_filter,
                               window_floor_s=cfg.window_floor_s, window_margin_s=cfg.window_margin_s,
                               temperatures=(0.0, 0.2, 0.4, 0.6, 0.8, 1.0) if cfg.temperature_fallback else (0.0,),
                               batched=cfg.batched_decode,
                               num_workers=1 if cfg.batched_decode else cfg.parallel_decodes)


@serve.deployment(name="ASR")
class ASR:
    """Wraps an :class:`AsrBackend`; the model loads once per replica.

    With ``asr.batched_decode``, concurrent ``transcribe`` calls (one per live session with
    audio waiting) are gathered by ``serve.batch`` (up to ``asr.max_batch_size``, waiting at
    most ``asr.batch_wait_s``) and decoded in one engine call (``transcribe_batch``).
    Without it buffers are taken first come first served, ``asr.parallel_decodes`` at a time
    (each on its own CTranslate2 worker): each session gets its words back as soon as its own
    buffer is decoded and masks, labels and commits them while the next buffers decode (a batch
    of sequential decodes would hold every session until the last one finished).

    ``engine`` (a zero-argument factory) replaces the configured engine: the graph
    test tier runs the real graph with deterministic fakes this way.
    """

    def __init__(self, config: AsrConfig, model_cache: str, engine: Callable[[], AsrBackend] | None = None):
        self._engine = engine() if engine is not None else build_asr_engine(config, model_cache)
        self._batched = config.batched_decode
        self._backend = "custom" if engine is not None else config.backend
        self._slots = asyncio.Semaphore(config.parallel_decodes)  # FIFO: waiters are woken in order
        self._decode.set_max_batch_size(config.max_batch_size)
        self._decode.set_batch_wait_timeout_s(config.batch_wait_s)

    async def ready(self) -> bool:
        return True

    async def info(self) -> dict:
        """Which backend this replica runs and in which Python (WhisperX runs in its own virtualenv)."""
        return {"backend": self._backend, "python": sys.executable}

    async def transcribe(self, samples: np.ndarray) -> list[AsrSegment]:
        """16 kHz mono float32 -> segments with word timings (seconds from sample 0)."""
        if not self._batched:
            async with self._slots:
                return (await asyncio.to_thread(self._timed, [samples]))[0]
        result = await self._decode(samples)
        if isinstance(result, Exception):
            raise result
        return result

    @serve.batch(max_batch_size=8, batch_wait_timeout_s=0.03)
    async def _decode(self, batch: list[np.ndarray]) -> list[list[AsrSegment] | Exception]:
        """The buffers waiting together, in one engine call.  If that call fails, each
        buffer is decoded alone, so one bad buffer fails only its own session's chunk."""
        try:
            return await asyncio.to_thread(self._timed, batch)
        except Exception:
            if len(batch) == 1:
                raise
        return [await self._decode_alone(b) for b in batch]

    async def _decode_alone(self, samples: np.ndarray) -> list[AsrSegment] | Exception:
        try:
            return (await asyncio.to_thread(self._timed, [samples]))[0]
        except Exception as exc:  # handed to that buffer's caller only
            return exc

    def _timed(self, batch: list[np.ndarray]) -> list[list[AsrSegment]]:
        """One engine call, measured: its real-time factor and busy seconds (``serve_app.metrics``)."""
        t0 = time.perf_counter()
        result = self._engine.transcribe_batch(batch)
        elapsed = time.perf_counter() - t0
        audio_s = sum(b.shape[-1] for b in batch) / SAMPLE_RATE
        record("stage_busy_seconds_total", elapsed, stage="asr")
        if audio_s > 0:
            record("asr_real_time_factor", elapsed / audio_s)
        return result
