"""The session store as a named, detached, restartable Ray actor.

Any replica gets the one store with :func:`get_session_store`; the first call
creates it.  If the actor dies, Ray restarts it (``max_restarts=-1``) and it
rebuilds every session from the journal; calls in flight are retried
(``max_task_retries``), and every store call is idempotent or fenced.
"""
from __future__ import annotations

from typing import Any

import ray

from serve_app.config import LimitsConfig, PipelineConfig, StoreConfig
from serve_app.sessions.disk_journal import DiskJournal
from serve_app.sessions.store import SessionStore

__all__ = ["SessionStoreActor", "get_session_store", "ActorStoreClient"]


@ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=3, max_concurrency=1000)
class SessionStoreActor:
    """Async actor: one event loop, so store calls never interleave mid-update."""

    def __init__(self, data_dir: str, limits: dict, pipeline: dict, notes: bool = True, checks: bool = False):
        limits_cfg = LimitsConfig(**limits)
        pipeline_cfg = PipelineConfig(**pipeline)
        self._store = SessionStore(DiskJournal(data_dir), max_pending_chunks=limits_cfg.max_pending_chunks,
                                   finish_grace_s=pipeline_cfg.finish_grace_s, notes=notes, checks=checks)

    async def ping(self) -> bool:
        return True

    async def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Invoke a :class:`SessionStore` method by name (awaiting it if async)."""
        result = getattr(self._store, method)(*args, **kwargs)
        if hasattr(result, "__await__"):
            result = await result
        return result


def get_session_store(store: StoreConfig, data_dir: str, limits: LimitsConfig, pipeline: PipelineConfig,
                      notes: bool = True, checks: bool = False):
    """Get (or create) the named store actor; ``notes``: sessions finish with a final note,
    ``checks``: and with that note's guardrail checks."""
    return SessionStoreActor.options(
        name=store.actor_name, namespace=store.namespace, lifetime="detached", get_if_exists=True
    ).remote(data_dir, limits.model_dump(), pipeline.model_dump(), notes, checks)


class ActorStoreClient:
    """``await client.method(...)`` for every :class:`SessionStore` method."""

    def __init__(self, actor):
        self._actor = actor

    async def ping(self) -> bool:
        return await self._actor.ping.remote()

    def __getattr__(self, method: str):
        if method.startswith("_"):
            raise AttributeError(method)

        async def call(*args: Any, **kwargs: Any) -> Any:
            return await self._actor.call.remote(method, *args, **kwargs)

        return call
