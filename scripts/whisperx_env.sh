#!/usr/bin/env bash
# WhisperX in its own virtualenv (opt-in: 7.7 GB measured here, mostly torch 2.8's CUDA build and its
# NVIDIA libraries; WhisperX pins torch 2.8 and transformers<5, which cannot share the
# project's environment with vLLM).  Records what the install cost in $WHISPERX_VENV/install.json.
# The ASR replica of `asr.backend: whisperx` runs in it (Ray runtime_env py_executable), so it also gets
# this project's Ray and pydantic pins (the same versions as pyproject.toml: Ray needs one version on
# every worker).  Used by `make test-whisperx` and `make bench-whisperx`; not part of `make test`.
set -euo pipefail
VENV="${WHISPERX_VENV:-$HOME/.cache/clinical-scribe/whisperx-venv}"
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null || PY=python3
cd "$(dirname "$0")/.."
pins=()
for name in 'ray\[serve' 'pydantic' 'pydantic-settings'; do  # exact pins, read from pyproject.toml
  pins+=("$(grep -oE "\"${name}[],a-z]*==[0-9.]+\"" pyproject.toml | head -1 | tr -d '"' | sed 's/,data//')")
done
stamp="whisperx==3.8.6 ${pins[*]}"
if [ -f "$VENV/install.json" ] && grep -qF "$stamp" "$VENV/install.json"; then echo "[whisperx] ready: $VENV"; exit 0; fi
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
start=$(date +%s)
"$VENV/bin/python" -m pip install -q "whisperx==3.8.6"
# torch stays at WhisperX's pin while Ray and pydantic are added
torch_pin="torch==$("$VENV/bin/python" -c 'import torch; print(torch.__version__.split("+")[0])')"
"$VENV/bin/python" -m pip install -q "${pins[@]}" "$torch_pin"
seconds=$(( $(date +%s) - start ))
mb=$(du -sm "$VENV" | cut -f1)
printf '{"package": "%s", "install_s": %s, "venv_mb": %s}\n' "$stamp" "$seconds" "$mb" > "$VENV/install.json"
echo "[whisperx] installed in ${seconds}s, ${mb} MB: $VENV"
