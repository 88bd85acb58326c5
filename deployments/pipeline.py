"""Pipeline deployment: runs each session's chunks through ASR, PII and Roles in order,
keeps each session's note up to date (:class:`~serve_app.pipeline.note_updater.NoteUpdater`) and
checked (:class:`~serve_app.pipeline.note_checks.NoteChecks` calling the Guardrails deployment).

It is kicked by the ingress after every accepted chunk or batch, and scans the
store every ``scan_interval_s`` so work left by a crash or restart resumes.
"""
from __future__ import annotations

import asyncio
import logging

from ray import serve

from serve_app.config import AsrConfig, LimitsConfig, NotesConfig, PipelineConfig, StoreConfig
from serve_app.pipeline.note_checks import NoteChecks
from serve_app.pipeline.note_updater import NoteUpdater
from serve_app.pipeline.processor import SessionProcessor

from deployments.session_store import ActorStoreClient, get_session_store

__all__ = ["Pipeline"]

log = logging.getLogger("ray.serve")


class _HandleClient:
    """Adapts a Serve deployment handle to ``await client.method(...)``."""

    def __init__(self, handle):
        self._handle = handle

    def __getattr__(self, method: str):
        if method.startswith("_"):
            raise AttributeError(method)

        async def call(*args, **kwargs):
            return await getattr(self._handle, method).remote(*args, **kwargs)

        return call


@serve.deployment(name="Pipeline")
class Pipeline:
    async def __init__(self, asr, pii, notes, roles, guardrails, asr_config: dict, pipeline_config: dict, store_config: dict,
                 limits: dict, notes_config: dict, data_dir: str):
        self._config = PipelineConfig(**pipeline_config)
        notes_cfg = NotesConfig(**notes_config)
        checking = notes is not None and guardrails is not None
        actor = get_session_store(StoreConfig(**store_config), data_dir, LimitsConfig(**limits), self._config,
                                  notes_cfg.enabled, checking)
        self._store = ActorStoreClient(actor)
        self._checks = NoteChecks(self._store, _HandleClient(guardrails)) if checking else None
        self._notes = NoteUpdater(self._store, _HandleClient(notes), notes_cfg, checks=self._checks) \
            if notes is not None else None
        self._processor = SessionProcessor(self._store, _HandleClient(asr), _HandleClient(pii),
                                           AsrConfig(**asr_config), self._config, self._notes,
                                           _HandleClient(roles) if roles is not None else None, self._checks)
        self._scanner = asyncio.get_running_loop().create_task(self._scan())

    async def _scan(self) -> None:
        while True:
            try:
                for sid in await self._store.sessions_with_work():
                    self._processor.kick(sid)
                if self._notes is not None:
                    for sid in await self._store.sessions_needing_notes():
                        self._notes.kick(sid)
                if self._checks is not None:
                    for sid in await self._store.sessions_needing_checks():
                        self._checks.kick(sid)
            except Exception as exc:  # store restarting: try again next round
                log.warning("pipeline scan failed: %s", type(exc).__name__)
            await asyncio.sleep(self._config.scan_interval_s)

    async def ready(self) -> bool:
        return True

    async def kick(self, sid: str) -> None:
        """Start (or nudge) the loop for ``sid``, and its note updater; returns at once."""
        self._processor.kick(sid)
        if self._notes is not None:
            self._notes.kick(sid)
