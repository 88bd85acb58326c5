"""The HTTP ingress deployment: FastAPI built inside the replica.

The FastAPI app is created in ``__serve_build_asgi_app__`` (``@serve.ingress()``
with no argument) rather than pickled from the driver, so the UI can mount on
it and nothing unpicklable crosses processes.
"""
from __future__ import annotations

import logging
import os

from ray import serve

from deployments.session_store import ActorStoreClient, get_session_store

from serve_app.ingress.routes import create_api
from serve_app.ingress.auth import TokenAuth
from flywheel.identity import Pseudonymizer

from serve_app.config import AppArgs
from serve_app.ingress.feedback import FeedbackRecorder, provenance
from serve_app.ingress.service import ScribeService

__all__ = ["Ingress"]

log = logging.getLogger("ray.serve")


@serve.deployment(name="Ingress")
@serve.ingress()
class Ingress:
    """Authenticates, validates and routes requests; answers 202 once a chunk is durable."""

    def __init__(self, pipeline, asr, pii, roles, guardrails, flywheel, args: dict, data_dir: str,
                 dev_token_path: str | None, sse_ping_s: float, pseudonym_key_path: str | None = None):
        cfg = AppArgs.model_validate(args)
        self._auth = TokenAuth.from_environment(os.environ.get("SCRIBE_API_TOKENS"), dev_token_path)
        self._store = ActorStoreClient(get_session_store(cfg.store, data_dir, cfg.limits, cfg.pipeline,
                                                                 cfg.notes.enabled,
                                                                 cfg.notes.enabled and cfg.guardrails.enabled))
        self._pipeline = pipeline
        self._sse_ping_s = sse_ping_s
        checks = {
            "SessionStore": self._store.ping,
            "ASR": lambda: asr.ready.remote(),
            "PII": lambda: pii.ready.remote(),
            "Pipeline": lambda: pipeline.ready.remote(),
        }
        if roles is not None:
            checks["Roles"] = lambda: roles.ready.remote()
        if guardrails is not None:
            checks["Guardrails"] = lambda: guardrails.ready.remote()
        checks["Flywheel"] = lambda: flywheel.ready.remote()
        recorder = FeedbackRecorder(self._store, pii, flywheel, Pseudonymizer.from_environment(pseudonym_key_path),
                                    provenance(cfg))
        self._service = ScribeService(self._store, self._kick, cfg.limits, checks, recorder)

    def _kick(self, sid: str) -> None:
        self._pipeline.kick.remote(sid)  # fire and forget; the pipeline's scan is the safety net

    def __serve_build_asgi_app__(self):
        return create_api(self._service, self._auth, self._sse_ping_s)
