#!/usr/bin/env bash
# WhisperX in its own virtualenv (opt-in: 7.7 GB measured here, mostly torch 2.8's CUDA build and its
# NVIDIA libraries; WhisperX pins torch 2.8 and transformers<5, which cannot share the
# project's environment with vLLM).  Records what the install cost in $WHISPERX_VENV/install.json.
# Used by `make bench-whisperx` (bench/perf/whisperx_compare.py); not part of `make test`.
set -euo pipefail
VENV="${WHISPERX_VENV:-$HOME/.cache/clinical-scribe/whisperx-venv}"
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null || PY=python3
if [ -f "$VENV/install.json" ]; then echo "[whisperx] ready: $VENV"; exit 0; fi
"$PY" -m venv "$VENV"
start=$(date +%s)
"$VENV/bin/python" -m pip install -q "whisperx==3.8.6"
seconds=$(( $(date +%s) - start ))
mb=$(du -sm "$VENV" | cut -f1)
printf '{"package": "whisperx==3.8.6", "install_s": %s, "venv_mb": %s}\n' "$seconds" "$mb" > "$VENV/install.json"
echo "[whisperx] installed in ${seconds}s, ${mb} MB: $VENV"
