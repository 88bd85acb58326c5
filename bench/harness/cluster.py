"""A multi-node Ray cluster on this one machine (Ray's ``cluster_utils``): a head and worker nodes,
each its own raylet with its own logical CPUs, the app deployed once across them, the session store
on a real Redis, audio blobs and the flywheel on the data directory every node shares.

Serve's HTTP proxy runs on the head only (nodes on one machine cannot all bind one port); a real
cluster runs one per node (``proxy_location: EveryNode``).
"""
from __future__ import annotations

import os
import tempfile
import time
from collections import defaultdict

from bench.harness.serve import ROOT, ServeApp, _free_port, prepare_app

__all__ = ["ClusterApp", "start_cluster_app", "stop_cluster_app"]

_CLUSTERS: list = []


class ClusterApp(ServeApp):
    """The app on a :class:`ray.cluster_utils.Cluster`: add, kill and inspect nodes."""

    def __init__(self, cluster, worker_cpus: float, **kwargs):
        super().__init__(**kwargs)
        self.cluster, self.worker_cpus = cluster, worker_cpus
        self.head_id = cluster.head_node.node_id

    def add_worker(self):
        """A new worker node (its own raylet, ``worker_cpus`` logical CPUs); returns it."""
        node = self.cluster.add_node(num_cpus=self.worker_cpus)
        self.cluster.wait_for_nodes()
        return node

    def kill_node(self, node) -> None:
        """Kill a worker node as a machine loss would: its raylet and every process on it, no clean exit."""
        self.cluster.remove_node(node, allow_graceful=False)

    @staticmethod
    def alive_nodes() -> set[str]:
        """Node ids the GCS still reports alive (a killed node stays alive until its health checks fail)."""
        import ray

        return {n["NodeID"] for n in ray.nodes() if n["Alive"]}

    def wait_node_dead(self, node, timeout_s: float = 120) -> float:
        """Seconds until the GCS marks ``node`` dead (raises past ``timeout_s``)."""
        t0 = time.monotonic()
        while node.node_id in self.alive_nodes():
            if time.monotonic() - t0 > timeout_s:
                raise AssertionError(f"node {node.node_id} still alive after {timeout_s} s")
            time.sleep(0.5)
        return time.monotonic() - t0

    @staticmethod
    def placement() -> dict[str, dict[str, int]]:
        """deployment -> node id -> live replicas there (read from the GCS's actor and node tables)."""
        import ray

        alive = ClusterApp.alive_nodes()
        out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for actor in ray._private.state.actors().values():
            name = actor.get("Name") or ""
            node = actor["Address"]["NodeID"]
            if actor.get("State") == "ALIVE" and node in alive and name.startswith("SERVE_REPLICA::scribe#"):
                out[name.split("#")[1]][node] += 1
        return {d: dict(nodes) for d, nodes in out.items()}

    @staticmethod
    def replica_states() -> dict[str, dict[str, int]]:
        """deployment -> Serve's replica states (RUNNING, STARTING, PENDING_ALLOCATION...) -> count."""
        from ray import serve

        deployments = serve.status().applications["scribe"].deployments
        return {name: {str(k).rsplit(".", 1)[-1]: v for k, v in d.replica_states.items()}
                for name, d in deployments.items()}

    def wait_all_running(self, timeout_s: float = 180) -> float:
        """Seconds until every replica of every deployment is RUNNING (raises past ``timeout_s``)."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout_s:
            states = self.replica_states()
            if states and all(set(s) == {"RUNNING"} for s in states.values()):
                return time.monotonic() - t0
            time.sleep(0.5)
        raise AssertionError(f"replicas not all running: {self.replica_states()}")


def start_cluster_app(overrides: dict | None = None, engines=None, head_cpus: float = 2,
                      worker_cpus: float = 2, workers: int = 1) -> ClusterApp:
    """A head (``head_cpus``) and ``workers`` worker nodes, the store on Redis, the app deployed once."""
    import ray
    from ray import serve
    from ray.cluster_utils import Cluster

    tmp, args, server = prepare_app(overrides, redis=True)
    # Cluster writes the head's address under Ray's default temp dir, which a fresh machine lacks
    os.makedirs(os.path.dirname(ray._private.utils.get_ray_address_file(None)), exist_ok=True)
    cluster = Cluster(initialize_head=True, head_node_args={
        "num_cpus": head_cpus, "include_dashboard": False,
        "temp_dir": tempfile.mkdtemp(prefix="ray", dir="/tmp")})
    _CLUSTERS.append(cluster)
    for _ in range(workers):
        cluster.add_node(num_cpus=worker_cpus)
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, namespace="serve", runtime_env={"env_vars": {"PYTHONPATH": str(ROOT)}})
    port = _free_port()
    serve.start(http_options={"host": "127.0.0.1", "port": port, "location": "HeadOnly"})
    app = ClusterApp(cluster, worker_cpus, port=port, args=args, data_dir=tmp / "data", engines=engines,
                     redis=server)
    app.deploy()
    return app


def stop_cluster_app() -> None:
    from bench.harness.serve import stop_serve_app

    stop_serve_app()
    while _CLUSTERS:
        _CLUSTERS.pop().shutdown()
