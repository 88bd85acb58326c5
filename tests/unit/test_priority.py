"""Replica CPU priority: best-effort deployments yield the CPU to live transcription."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.unit

_PROBE = "from serve_app.priority import lower_priority; import os; print(lower_priority(), os.nice(0))"


def _run(nice_env: str | None) -> tuple[int, int]:
    env = {k: v for k, v in os.environ.items() if k != "SCRIBE_NICE"}
    if nice_env is not None:
        env["SCRIBE_NICE"] = nice_env
    out = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, check=True,
                         cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    reported, actual = out.stdout.split()
    return int(reported), int(actual)


def test_a_replica_lowers_its_priority_to_scribe_nice():
    base = os.nice(0)
    assert _run("10") == (max(base, 10), max(base, 10))


def test_without_scribe_nice_the_priority_is_left_alone():
    base = os.nice(0)
    assert _run(None) == (base, base)
