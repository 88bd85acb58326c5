"""Notes deployment: masked segments in, a checked SOAP note out.

A thin Serve wrapper around :class:`serve_app.engines.notes.writer.NoteWriter`
and the engine named by ``notes.backend``.  ``max_ongoing_requests`` is high
on purpose: concurrent sessions' requests reach the one vLLM engine together
and are decoded in the same batches.
"""
from __future__ import annotations

import asyncio
import logging
import os
import time
from pathlib import Path
from typing import Callable

from ray import serve

from serve_app import log_context
from serve_app.config import NotesConfig
from serve_app.contracts import PromptSegment, WrittenNote
from serve_app.engines.notes.orphans import mark_children, reap_orphans
from serve_app.engines.notes.protocol import NoteEngine
from serve_app.engines.notes.writer import NoteWriter, WriterSettings
from serve_app.metrics import record
from serve_app.priority import lower_priority

__all__ = ["Notes", "build_note_engine"]

log = logging.getLogger("ray.serve")


def _vllm_work_dirs(work_dir: Path) -> None:
    """Keep vLLM's sockets, temp files and compile caches in this deployment's own directory."""
    for var, sub in (("TMPDIR", "tmp"), ("VLLM_RPC_BASE_PATH", "rpc"), ("VLLM_CACHE_ROOT", "cache")):
        path = work_dir / sub
        path.mkdir(parents=True, exist_ok=True)
        os.environ.setdefault(var, str(path))


def build_note_engine(cfg: NotesConfig, model_cache: str, device: str):
    """The engine ``cfg.backend`` names (imports only what that backend needs)."""
    if cfg.backend == "openai":
        from serve_app.engines.notes.openai_engine import OpenAINoteEngine

        if not cfg.base_url:
            raise ValueError("notes.backend 'openai' needs notes.base_url")
        return OpenAINoteEngine(cfg.base_url, cfg.model, cfg.api_key_env, cfg.timeout_s, cfg.temperature)
    from serve_app.engines.notes.models import resolve_note_model
    from serve_app.engines.notes.vllm_engine import VllmNoteEngine

    if device == "cpu":
        _vllm_work_dirs(Path(model_cache) / "vllm-work")
    model_dir = resolve_note_model(cfg.model, model_cache)
    return VllmNoteEngine(str(model_dir), max_model_len=cfg.max_model_len, max_num_seqs=cfg.max_num_seqs,
                          gpu_memory_utilization=cfg.gpu_memory_utilization, temperature=cfg.temperature,
                          enforce_eager=cfg.enforce_eager, block_size=cfg.block_size,
                          max_num_batched_tokens=cfg.max_num_batched_tokens)


def writer_settings(cfg: NotesConfig) -> WriterSettings:
    return WriterSettings(mode=cfg.mode, max_items=cfg.max_items, max_item_chars=cfg.max_item_chars,
                          max_tokens=cfg.max_tokens, min_support=cfg.min_support,
                          fallback_to_fact=cfg.fallback_to_fact)


@serve.deployment(name="Notes")
class Notes:
    """The note writer around the engine ``notes.backend`` names (``engine``, a zero-argument
    factory of a :class:`NoteEngine`, replaces it in the graph test tier)."""

    def __init__(self, config: NotesConfig, model_cache: str, device: str,
                 engine: Callable[[], NoteEngine] | None = None):
        lower_priority()  # before vLLM starts its engine process, which inherits it
        log_context.install()  # scribe.notes records into this replica's JSON log
        reap_orphans()  # an engine process a killed Notes replica left behind
        mark_children()
        self._engine = engine() if engine is not None else build_note_engine(config, model_cache, device)
        self._writer = NoteWriter(self._engine, settings=writer_settings(config))
        self._warm = asyncio.Lock() if config.warm_up else None
        log.info("Notes ready: backend=%s device=%s mode=%s", config.backend, device, config.mode)

    async def _warm_up(self) -> None:
        """The first call (a readiness probe or a note) sends one fact prompt, so the prompt prefix all
        fact requests share sits in vLLM's prefix cache before the first note's requests arrive together."""
        if self._warm is None:
            return
        async with self._warm:
            if self._warm is not None:
                await self._writer.warm_up()
                self._warm = None

    async def ready(self) -> bool:
        await self._warm_up()
        return True

    async def check_health(self) -> None:
        """Serve's periodic health check: fails when the engine is dead (a crashed vLLM engine core), so
        Serve stops this replica and starts a new one instead of it answering errors forever."""
        await self._engine.check_health()

    async def write(self, segments: list[PromptSegment], fresh: bool = False) -> WrittenNote:
        """``{"note", "stats"}`` for masked ``segments`` (``id``, ``text``, ``role``);
        ``fresh`` ignores rewrites cached from earlier versions (benchmarks)."""
        await self._warm_up()
        t0 = time.perf_counter()
        written = await self._writer.write(segments, fresh=fresh)
        elapsed = time.perf_counter() - t0
        record("note_write_seconds", elapsed)
        record("stage_busy_seconds_total", elapsed, stage="notes")
        stats = written.get("stats", {})
        valid = stats.get("answers_schema_valid", 0)
        record("note_answers_total", valid, schema_valid="true")
        record("note_answers_total", stats.get("answers", 0) - valid, schema_valid="false")
        return written

    async def __del__(self):
        try:
            await self._engine.close()
        except Exception:  # shutting down anyway
            pass
