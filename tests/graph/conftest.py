"""One real Serve graph with deterministic fake engines for the whole graph tier.

The graph is the production one (``serve_app.app.build_app``: Ingress, Pipeline,
session-store actor, Flywheel, the five engine deployments, HTTP on loopback);
only the engines inside the deployments are the fakes of ``bench/harness/fakes``, so it
starts in seconds and most behaviour of the graph is testable without models.  Its session
store is on a real ``redis-server`` (``REDIS_URL``): the integration tier runs the local-disk
journal, this tier the Redis one, both behind the whole graph.
"""
from __future__ import annotations

import pytest

from bench.harness.fakes.graph import ARGS, FAKES
from bench.harness.serve import start_serve_app, stop_serve_app

__all__ = ["ARGS", "FAKES"]


@pytest.fixture(scope="session")
def serve_app():
    app = start_serve_app(ARGS, engines=FAKES, redis=True)
    yield app
    stop_serve_app()
