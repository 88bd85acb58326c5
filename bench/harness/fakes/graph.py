"""The production graph with every engine replaced by its fake (graph tier, store benchmarks)."""
from __future__ import annotations

from bench.harness.fakes.asr import FakeAsr
from bench.harness.fakes.guardrails import FakeGuardrails
from bench.harness.fakes.notes import FakeNoteEngine
from bench.harness.fakes.pii import FakePii
from bench.harness.fakes.roles import FakeRoles
from serve_app.app import EngineFactories

__all__ = ["FAKES", "ARGS"]

FAKES = EngineFactories(asr=FakeAsr, pii=FakePii, roles=FakeRoles, notes=FakeNoteEngine, guardrails=FakeGuardrails)
#: App args that make the graph with fakes quick: short grace, scans and debounces.
ARGS = {
    "pipeline": {"finish_grace_s": 1.0, "scan_interval_s": 0.5},
    "notes": {"debounce_s": 0.1, "max_delay_s": 0.5},
    "asr": {"holdback_s": 0.0, "context_s": 1.0},
    "flywheel": {"publish_interval_s": 0.5},
}
