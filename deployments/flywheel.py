"""Flywheel deployment: makes feedback durable (the 201 waits for it) and publishes it to Parquet."""
from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import Callable

from ray import serve

from flywheel.phi_scan import PhiScanner
from flywheel.records import Feedback, FlywheelRules
from flywheel.writer import FlywheelWriter
from serve_app import log_context
from serve_app.config import FlywheelConfig, PiiConfig
from serve_app.contracts import FeedbackSubmission
from serve_app.engines.pii.engine import PiiEngine
from serve_app.metrics import record
from serve_app.priority import lower_priority

__all__ = ["Flywheel", "build_writer"]

log = logging.getLogger("ray.serve")


def build_writer(cfg: FlywheelConfig, pii: PiiConfig, root: str, scanner: PhiScanner | None = None) -> FlywheelWriter:
    """The writer for ``root``; its last PHI scan is the service's PII engine plus philter-lite's rules."""
    return FlywheelWriter(root, FlywheelRules(similarity=cfg.similarity, dpo_max_similarity=cfg.dpo_max_similarity),
                          scanner or PhiScanner.from_config(pii), cfg.quarantine_root)


@serve.deployment(name="Flywheel")
class Flywheel:
    """One replica: :meth:`submit` spools durably; a background loop publishes every ``publish_interval_s``.

    On start it finishes any publication a crash cut short (:meth:`FlywheelWriter.recover`).
    """

    def __init__(self, config: FlywheelConfig, pii_config: PiiConfig, root: str,
                 pii_engine: Callable[[], PiiEngine] | None = None, quarantine_days: float = 30.0):
        lower_priority()
        log_context.install()  # scribe.flywheel records into this replica's JSON log
        self._cfg = config
        self._quarantine_days = quarantine_days
        scanner = PhiScanner.from_config(pii_config, pii_engine()) if pii_engine is not None else None
        self._writer = build_writer(config, pii_config, root, scanner)
        self._writer.recover()
        self._lock = asyncio.Lock()
        self._task = asyncio.get_event_loop().create_task(self._loop())

    async def ready(self) -> bool:
        return True

    async def submit(self, feedback: FeedbackSubmission) -> bool:
        """Durably spool one feedback (already masked); False if its id was already taken."""
        spooled = await asyncio.to_thread(self._writer.submit, Feedback(**feedback))
        record("feedback_total", 1 if spooled else 0, outcome="spooled")
        return spooled

    async def erase(self, session: str) -> dict[str, int]:
        """Erase one session (its pseudonym) from spool, datasets and quarantine; rows removed per place."""
        async with self._lock:
            return await asyncio.to_thread(self._writer.erase, session)

    async def publish_now(self) -> int:
        """Publish everything spooled now (tests, ``flywheel`` tools); returns the feedback count."""
        async with self._lock:
            total, quarantined = 0, self._writer.quarantined_rows
            try:
                while (n := await asyncio.to_thread(self._writer.publish, self._cfg.max_batch)):
                    total += n
            finally:
                record("feedback_total", total, outcome="published")
                record("feedback_total", self._writer.quarantined_rows - quarantined, outcome="quarantined")
            return total

    async def pid(self) -> int:
        """This replica's process id (the crash test kills it with SIGKILL)."""
        return os.getpid()

    async def pending(self) -> int:
        return await asyncio.to_thread(self._writer.pending)

    async def _loop(self) -> None:
        last_purge = 0.0
        while True:
            await asyncio.sleep(self._cfg.publish_interval_s)
            try:
                await self.publish_now()
            except Exception as exc:  # the spool keeps everything; the next round retries
                log.warning("flywheel publication failed (%s); retrying", type(exc).__name__)
            if time.time() - last_purge > 3600:  # the quarantine's review window, checked hourly
                last_purge = time.time()
                try:
                    async with self._lock:
                        await asyncio.to_thread(self._writer.purge_quarantine, self._quarantine_days)
                except Exception as exc:
                    log.warning("quarantine purge failed (%s)", type(exc).__name__)
