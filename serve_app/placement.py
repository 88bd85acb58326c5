"""Resource placement decided from the cluster's shape.

A deployment that asks for a GPU on a cluster without one never starts and
every request waits forever, so the builder asks Ray what the cluster has and
only then decides.  Pure functions: unit tests cover both cluster shapes.
"""
from __future__ import annotations

from typing import Any

from .config import DeploymentResources

__all__ = ["cluster_gpus", "deployment_options"]


def cluster_gpus() -> float:
    """GPUs Ray reports for the cluster (0 when Ray is not running)."""
    import ray

    if not ray.is_initialized():
        return 0.0
    return float(ray.cluster_resources().get("GPU", 0.0))


def deployment_options(res: DeploymentResources, gpus_available: float, wants_gpu: float = 0.0,
                       env_vars: dict[str, str] | None = None) -> dict[str, Any]:
    """Serve ``.options(...)`` for one deployment.

    ``wants_gpu`` is the GPU fraction the deployment would use; it is requested
    only when the cluster has at least that much GPU.
    """
    actor_options: dict[str, Any] = {"num_cpus": res.num_cpus}
    if wants_gpu > 0 and gpus_available >= wants_gpu:
        actor_options["num_gpus"] = wants_gpu
    if env_vars:
        actor_options["runtime_env"] = {"env_vars": dict(env_vars)}
    return {
        "num_replicas": res.num_replicas,
        "max_ongoing_requests": res.max_ongoing_requests,
        "ray_actor_options": actor_options,
    }
