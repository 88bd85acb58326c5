"""One real Ray Serve app on loopback for the whole integration session.

Ray starts locally in a private temp dir; the app is built from
``serve_config.yaml``'s args exactly as ``serve run`` would; two clinicians
have tokens; data lives in a temp ``SCRIBE_DATA_DIR``.
"""
from __future__ import annotations

import pytest

from bench.harness.serve import ROOT, TOKENS, start_serve_app, stop_serve_app

__all__ = ["ROOT", "TOKENS"]


@pytest.fixture(scope="session")
def serve_app():
    app = start_serve_app({"pipeline": {"finish_grace_s": 3.0}})
    yield app
    stop_serve_app()
