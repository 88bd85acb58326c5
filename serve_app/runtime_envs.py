"""Which Python a deployment runs in.

Every deployment runs in the service's own environment except the WhisperX ASR backend: WhisperX
pins torch 2.8 and transformers<5, which cannot share an environment with vLLM, so its replica runs
in WhisperX's own virtualenv (``scripts/whisperx_env.sh``, which also installs this project's Ray and
pydantic pins there) through Ray's ``runtime_env`` ``py_executable``.  On a cluster that virtualenv
must exist at the same path on every node that may host the ASR replica.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from serve_app.config import AsrConfig

__all__ = ["WHISPERX_PYTHON_ENV", "whisperx_python", "asr_runtime_env", "BackendUnavailable"]

WHISPERX_PYTHON_ENV = "SCRIBE_WHISPERX_PYTHON"
_DEFAULT = Path.home() / ".cache" / "clinical-scribe" / "whisperx-venv" / "bin" / "python"
_CHECKOUT = Path(__file__).resolve().parents[1]  # serve_app/ and deployments/ live here


class BackendUnavailable(RuntimeError):
    """The configured ASR backend's environment is missing (with what to run)."""


def whisperx_python(cfg: AsrConfig) -> str:
    """The WhisperX virtualenv's Python: ``asr.whisperx.python``, ``$SCRIBE_WHISPERX_PYTHON`` or the default."""
    path = Path(cfg.whisperx.python or os.environ.get(WHISPERX_PYTHON_ENV) or _DEFAULT).expanduser()
    if not os.access(path, os.X_OK):
        raise BackendUnavailable(f"asr.backend is whisperx but {path} is not an executable Python: "
                                 "run `bash scripts/whisperx_env.sh` (about 8 GB) or set asr.whisperx.python")
    return str(path)


def asr_runtime_env(cfg: AsrConfig) -> dict[str, Any] | None:
    """The ASR replica's ``runtime_env``: ``None`` for faster-whisper (the service's environment); for
    WhisperX its virtualenv's Python, this checkout on ``PYTHONPATH`` and the model hubs offline."""
    if cfg.backend != "whisperx":
        return None
    return {"py_executable": whisperx_python(cfg),
            "env_vars": {"PYTHONPATH": str(_CHECKOUT), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}}
