"""One real Serve graph with deterministic fake engines for the whole graph tier.

The graph is the production one (``serve_app.app.build_app``: Ingress, Pipeline,
session-store actor, Flywheel, the five engine deployments, HTTP on loopback);
only the engines inside the deployments are the fakes of ``tests/fakes``, so it
starts in seconds and most behaviour of the graph is testable without models.
"""
from __future__ import annotations

import pytest

from bench.harness.serve import start_serve_app, stop_serve_app
from serve_app.app import EngineFactories
from tests.fakes.asr import FakeAsr
from tests.fakes.guardrails import FakeGuardrails
from tests.fakes.notes import FakeNoteEngine
from tests.fakes.pii import FakePii
from tests.fakes.roles import FakeRoles

FAKES = EngineFactories(asr=FakeAsr, pii=FakePii, roles=FakeRoles, notes=FakeNoteEngine, guardrails=FakeGuardrails)
ARGS = {
    "pipeline": {"finish_grace_s": 1.0, "scan_interval_s": 0.5},
    "notes": {"debounce_s": 0.1, "max_delay_s": 0.5},
    "asr": {"holdback_s": 0.0, "context_s": 1.0},
    "flywheel": {"publish_interval_s": 0.5},
}


@pytest.fixture(scope="session")
def serve_app():
    app = start_serve_app(ARGS, engines=FAKES)
    yield app
    stop_serve_app()
