"""The session store as a named, detached, restartable Ray actor.

Any replica reaches the one store with :func:`connect_store`, which returns a typed
:class:`~serve_app.sessions.client.StoreClient`; the first call creates the actor.
If the actor dies, Ray restarts it (``max_restarts=-1``) and it reloads the active
sessions from the journal (local disk, or Redis when ``REDIS_URL`` is set); calls
in flight are retried (``max_task_retries``), and every store call is idempotent or
fenced.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import ray

from serve_app.sessions.client import LocalTransport, StoreClient
from serve_app.sessions.journals import open_journal
from serve_app.sessions.spec import StoreSpec
from serve_app.sessions.store import SessionStore

__all__ = ["SessionStoreActor", "ActorTransport", "connect_store"]

log = logging.getLogger("scribe.store")


@ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=3, max_concurrency=1000)
class SessionStoreActor:
    """Async actor: one event loop, so store calls never interleave mid-update."""

    def __init__(self, spec: StoreSpec):
        self._spec = spec
        self._local = LocalTransport(SessionStore(open_journal(spec), spec))

    async def ping(self) -> bool:
        return True

    async def spec(self) -> StoreSpec:
        """The settings this actor was started with (a replica compares them with its own)."""
        return self._spec

    async def call(self, role: str, method: str, *args: Any, **kwargs: Any) -> Any:
        """Run one store call (``role`` and ``method`` come from :func:`serve_app.sessions.client.route`)."""
        return await self._local.call(role, method, *args, **kwargs)


class ActorTransport:
    """:class:`~serve_app.sessions.client.StoreTransport` over the store actor."""

    def __init__(self, actor):
        self._actor = actor

    async def call(self, role: str, method: str, *args: Any, **kwargs: Any) -> Any:
        """One store call; if the caller gives up (a client that left an event stream, a request
        past its deadline), the call is cancelled in the actor too instead of running on there."""
        ref = self._actor.call.remote(role, method, *args, **kwargs)
        try:
            return await ref
        except asyncio.CancelledError:
            ray.cancel(ref)
            raise

    async def ping(self) -> bool:
        return await self._actor.ping.remote()


def connect_store(spec: StoreSpec, timeout_s: float = 60.0) -> StoreClient:
    """A client of the named store actor, creating the actor from ``spec`` if it does not exist yet.

    The actor is detached, so it outlives a redeploy.  If the running one was started with other
    settings (a new data dir, backend prefix or limits), it is stopped and started again with
    ``spec`` (a restart: the journal is durable; replicas of the old version are being replaced by the
    same rollout), instead of silently keeping the old settings (review M8)."""
    def get_or_create():
        return SessionStoreActor.options(
            name=spec.actor_name, namespace=spec.namespace, lifetime="detached", get_if_exists=True
        ).remote(spec)

    actor = get_or_create()
    try:
        running = ray.get(actor.spec.remote(), timeout=timeout_s)
    except AttributeError:  # an actor of an earlier version, which cannot say
        running = None
    if running != spec:
        changed = sorted(k for k in StoreSpec.model_fields if getattr(running, k, None) != getattr(spec, k))
        log.warning("the session store runs with other settings (%s): restarting it with this deployment's",
                    ", ".join(changed))  # field names only: paths and limits, no secrets
        ray.kill(actor, no_restart=True)
        deadline = time.monotonic() + timeout_s
        while True:  # the name is released once the old actor is gone
            actor = get_or_create()
            try:
                if ray.get(actor.spec.remote(), timeout=timeout_s) == spec:
                    break
            except ray.exceptions.RayActorError:
                pass  # the dying one answered the name
            if time.monotonic() > deadline:
                raise RuntimeError("the session store did not restart with this deployment's settings")
            time.sleep(0.2)
    return StoreClient(ActorTransport(actor))
