"""Pipeline deployment: runs each session's chunks through ASR, PII and Roles in order,
keeps each session's note up to date (:class:`~serve_app.pipeline.note_updater.NoteUpdater`) and
checked (:class:`~serve_app.pipeline.note_checks.NoteChecks` calling the Guardrails deployment).

It is kicked by the ingress after every accepted chunk or batch, and scans the
store every ``scan_interval_s`` so work left by a crash or restart resumes.
"""
from __future__ import annotations

import asyncio
import logging

from pydantic import BaseModel, ConfigDict
from ray import serve

from deployments.session_store import connect_store
from serve_app import log_context
from serve_app.clients import AsrClient, GuardrailsClient, NotesClient, PiiClient, RolesClient
from serve_app.config import AsrConfig, NotesConfig, PipelineConfig, RetentionConfig
from serve_app.ingress.pseudonymizer import Pseudonymizer
from serve_app.pipeline.note_checks import NoteChecks
from serve_app.pipeline.note_updater import NoteUpdater
from serve_app.pipeline.processor import SessionProcessor
from serve_app.sessions.spec import StoreSpec
from serve_app.settings import Settings

__all__ = ["Pipeline", "PipelineArgs"]

log = logging.getLogger("ray.serve")


class PipelineArgs(BaseModel):
    """What the Pipeline replica is built from (the builder derives it from ``AppArgs``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    asr: AsrConfig
    pipeline: PipelineConfig
    notes: NotesConfig
    store: StoreSpec
    retention: RetentionConfig = RetentionConfig()
    pseudonym_key_path: str | None = None  # the session pseudonym in log records (SCRIBE_PSEUDONYM_KEY first)


@serve.deployment(name="Pipeline")
class Pipeline:
    """Hosts the session processor, the note updater and the note checks (handles in, typed clients inside)."""

    async def __init__(self, asr, pii, notes, roles, guardrails, args: PipelineArgs):
        self._config = args.pipeline
        settings = Settings()
        key = settings.pseudonym_key.get_secret_value() if settings.pseudonym_key else None
        pseudonyms = Pseudonymizer.from_secret(key, args.pseudonym_key_path)
        log_context.install(lambda sid: pseudonyms.id("session", sid))
        self._store = connect_store(args.store)
        self._checks = NoteChecks(self._store, GuardrailsClient(guardrails)) if args.store.checks else None
        self._notes = NoteUpdater(self._store, NotesClient(notes), args.notes, checks=self._checks) \
            if args.store.notes else None
        self._processor = SessionProcessor(self._store, AsrClient(asr), PiiClient(pii), args.asr, self._config,
                                           self._notes, RolesClient(roles) if roles is not None else None,
                                           self._checks)
        self._scanner = asyncio.get_running_loop().create_task(self._scan())
        self._retention = args.retention
        self._sweeper = asyncio.get_running_loop().create_task(self._sweep())

    async def _sweep(self) -> None:
        """Apply the retention policy in the store every ``retention.sweep_interval_s``."""
        policy = self._retention
        while True:
            try:
                counts = await self._store.retention.sweep(policy.keep_audio, policy.session_days,
                                                           policy.voice_features_days)
                if any(counts.values()):
                    log.info("retention sweep: %s", counts)
            except Exception as exc:
                log.warning("retention sweep failed: %s", type(exc).__name__)
            await asyncio.sleep(policy.sweep_interval_s)

    async def _scan(self) -> None:
        while True:
            try:
                for sid in await self._store.work.sessions_with_work():
                    self._processor.kick(sid)
                if self._notes is not None:
                    for sid in await self._store.notes.sessions_needing_notes():
                        self._notes.kick(sid)
                if self._checks is not None:
                    for sid in await self._store.notes.sessions_needing_checks():
                        self._checks.kick(sid)
            except Exception as exc:  # store restarting: try again next round
                log.warning("pipeline scan failed: %s", type(exc).__name__)
            await asyncio.sleep(self._config.scan_interval_s)

    async def ready(self) -> bool:
        return True

    async def forget(self, sid: str) -> None:
        """Drop ``sid``'s decoded audio from this replica's memory (a session erased)."""
        self._processor.forget(sid)

    async def kick(self, sid: str) -> None:
        """Start (or nudge) the loop for ``sid``, and its note updater; returns at once."""
        self._processor.kick(sid)
        if self._notes is not None:
            self._notes.kick(sid)
