"""`serve run serve_config.yaml` as ops run it, for the e2e tier (see bench/harness/serve_run.py)."""
from __future__ import annotations

import pytest

from bench.harness.serve_run import ROOT, TOKEN, ServeRun

__all__ = ["ROOT", "TOKEN", "ServeRun"]


@pytest.fixture()
def serve_run(tmp_path):
    run = ServeRun(tmp_path)
    yield run
    if run.proc and run.proc.poll() is None:
        run.kill()
