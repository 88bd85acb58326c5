"""The opt-in WhisperX tier (``make test-whisperx``): one real Serve app whose ASR replica runs
WhisperX in its own virtualenv (``scripts/whisperx_env.sh``, about 8 GB, so not part of ``make test``).
Notes are off: this tier is about the ASR backend."""
from __future__ import annotations

import pytest

from bench.harness.serve import start_serve_app, stop_serve_app


@pytest.fixture(scope="session")
def serve_app():
    app = start_serve_app({"asr": {"backend": "whisperx"}, "notes": {"enabled": False},
                           "pipeline": {"finish_grace_s": 3.0}})
    yield app
    stop_serve_app()
