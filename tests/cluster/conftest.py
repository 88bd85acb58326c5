"""A two-node Ray cluster on this machine (head + worker, each its own raylet and logical CPUs) with the
production graph and the graph tier's fake engines, the session store on a real Redis (issue 17)."""
from __future__ import annotations

import pytest

from bench.harness.cluster import start_cluster_app, stop_cluster_app
from bench.harness.fakes.graph import ARGS, FAKES

#: two replicas of each CPU stage, one per node: when the worker dies its replicas wait for a new node
#: instead of taking the head's room from the ingress or pipeline replicas that must move there
SPREAD = {"resources": {stage: {"num_replicas": 2, "max_replicas_per_node": 1}
                        for stage in ("asr", "pii", "roles", "guardrails")}}


@pytest.fixture(scope="session")
def serve_app():
    app = start_cluster_app({**ARGS, **SPREAD}, engines=FAKES)
    yield app
    stop_cluster_app()
