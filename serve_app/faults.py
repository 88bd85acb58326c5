"""Which failures are the input's fault and which are the infrastructure's (review M9).

A chunk whose audio cannot be transcribed fails for good after a few attempts; but a store or
replica restart, a full disk, too many open files, back-pressure or a timeout says nothing about
the chunk: the step is retried (the pipeline's periodic scan backs off) for as long as it takes,
and never counts toward giving the chunk up, because its audio was acknowledged.
"""
from __future__ import annotations

import asyncio

from serve_app.errors import Overloaded, StorageFull

__all__ = ["is_infrastructure"]


def _ray_faults() -> tuple[type[BaseException], ...]:
    try:
        from ray import exceptions as rx
        from ray.serve import exceptions as sx
    except ImportError:  # pragma: no cover - the service always has Ray
        return ()
    return (rx.RayActorError, rx.ActorUnavailableError, rx.WorkerCrashedError, rx.NodeDiedError,
            rx.LocalRayletDiedError, rx.OwnerDiedError, rx.ObjectLostError, rx.ObjectStoreFullError,
            rx.OutOfDiskError, rx.OutOfMemoryError, rx.GetTimeoutError, rx.RaySystemError, rx.RpcError,
            rx.TaskCancelledError, sx.BackPressureError, sx.DeploymentUnavailableError, sx.ReplicaUnavailableError,
            sx.RequestCancelledError)


_INFRA = (OSError, TimeoutError, asyncio.TimeoutError, ConnectionError, Overloaded, StorageFull) + _ray_faults()


def is_infrastructure(exc: BaseException) -> bool:
    """True if ``exc`` is a fault of the machinery, not of the data being processed.  A remote
    error keeps its cause's type (Ray makes ``RayTaskError`` an instance of it), so an ``OSError``
    raised in the store actor counts as infrastructure here too."""
    return isinstance(exc, _INFRA)
