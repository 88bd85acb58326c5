"""The HTTP ingress deployment: FastAPI built inside the replica.

The FastAPI app is created in ``__serve_build_asgi_app__`` (``@serve.ingress()``
with no argument) rather than pickled from the driver, so the UI can mount on
it and nothing unpicklable crosses processes.  Secrets (API tokens, the pseudonym
key) are read from the environment here, in the replica, through
:class:`~serve_app.settings.Settings`; only file paths come from the builder.
"""
from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from pydantic import BaseModel, ConfigDict
from ray import serve

from deployments.session_store import connect_store
from serve_app import log_context
from serve_app.audit import AuditLog
from serve_app.clients import AsrClient, DeploymentClient, FlywheelClient, PiiClient, PipelineClient
from serve_app.config import AppArgs
from serve_app.front import check_front, haproxy_front, served_tls
from serve_app.ingress.auth import TokenAuth
from serve_app.ingress.erasure import Eraser, ErasureLedger
from serve_app.ingress.feedback import FeedbackRecorder, provenance
from serve_app.ingress.pseudonymizer import Pseudonymizer
from serve_app.ingress.routes import create_api
from serve_app.ingress.server_reads import SLOW_READ_MS, serve_state_reads
from serve_app.ingress.service import ScribeService
from serve_app.sessions.spec import StoreSpec
from serve_app.settings import Settings
from serve_app.ui import mount_ui

log = logging.getLogger("ray.serve")
#: a state poll answered 200 faster than this leaves no access-log line (every other request does);
#: the same threshold as the reads the HTTP server answers (serve_app.ingress.server_reads)
POLL_LOG_SLOW_MS = SLOW_READ_MS

__all__ = ["Ingress", "IngressArgs"]


class IngressArgs(BaseModel):
    """What the Ingress replica is built from (the builder derives it from ``AppArgs``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    app: AppArgs
    store: StoreSpec
    dev_token_path: str | None = None
    pseudonym_key_path: str | None = None


@serve.deployment(name="Ingress")
@serve.ingress()
class Ingress:
    """Authenticates, validates and routes requests; answers 202 once a chunk is durable."""

    def __init__(self, pipeline, asr, pii, roles, guardrails, flywheel, args: IngressArgs):
        if haproxy_front():  # never serve a TLS config in plain HTTP
            check_front(True, served_tls())
        settings = Settings()
        self._auth = TokenAuth.from_secret(settings.tokens_spec(), args.dev_token_path)
        self._store = connect_store(args.store)
        self._sse_ping_s = settings.sse_ping_s
        self._ui = args.app.ui
        pipeline_client = PipelineClient(pipeline)
        parts: dict[str, DeploymentClient] = {"ASR": AsrClient(asr), "PII": PiiClient(pii),
                                              "Pipeline": pipeline_client}
        if roles is not None:
            parts["Roles"] = DeploymentClient(roles)
        if guardrails is not None:
            parts["Guardrails"] = DeploymentClient(guardrails)
        flywheel_client = FlywheelClient(flywheel)
        parts["Flywheel"] = flywheel_client
        checks = {"SessionStore": self._store.ping, **{name: part.ready for name, part in parts.items()}}
        key = settings.pseudonym_key.get_secret_value() if settings.pseudonym_key else None
        pseudonyms = Pseudonymizer.from_secret(key, args.pseudonym_key_path)
        log_context.install(lambda sid: pseudonyms.id("session", sid))
        log_context.quiet_routine_polls("/v1/sessions/{sid}", POLL_LOG_SLOW_MS)
        recorder = FeedbackRecorder(self._store, PiiClient(pii), flywheel_client, pseudonyms, provenance(args.app))
        audit = AuditLog(settings.audit_log_path(), lambda sid: pseudonyms.id("session", sid))
        store = self._store
        self._eraser = Eraser(
            ErasureLedger(Path(args.store.data_dir) / "erasures"), store.api.session_exists,
            {"session": lambda who, sid, _: store.api.delete_session(who, sid),
             "pipeline_cache": lambda who, sid, _: pipeline_client.forget(sid),
             "flywheel": lambda who, sid, session: flywheel_client.erase(session)},
            lambda sid: pseudonyms.id("session", sid))
        self._service = ScribeService(self._store, pipeline_client.kick, args.app.limits, checks, recorder,
                                      args.app.export, audit, self._eraser, pseudonyms.fingerprint)
        self._retry_s = args.app.retention.erasure_retry_s
        self._loop = asyncio.get_event_loop()  # the loop this replica's user code runs on
        self._retrier = self._loop.create_task(self._retry_erasures())
        self._server_reads = args.app.http.server_state_reads

    async def _retry_erasures(self) -> None:
        """Finish erasures a crash or a failing part left pending (at start, then periodically)."""
        while True:
            try:
                await self._eraser.retry_pending()
            except Exception as exc:
                log.warning("erasure retry failed (%s)", type(exc).__name__)
            await asyncio.sleep(self._retry_s)

    def __serve_build_asgi_app__(self):
        api = create_api(self._service, self._auth, self._sse_ping_s)
        if self._server_reads:  # the HTTP server's middleware (serve_app.ingress.server_reads) answers them
            serve_state_reads(api.state.state_read, self._loop)
        return mount_ui(api, self._ui)
