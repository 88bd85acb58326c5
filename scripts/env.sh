#!/usr/bin/env bash
# Shared environment for run/test/bench: the virtualenv, offline model hubs,
# Ray Serve tuning for 2 cores, and absolute SCRIBE_* paths.
VENV="${SCRIBE_VENV:-$HOME/.cache/clinical-scribe/venv}"
# shellcheck disable=SC1091
. "$VENV/bin/activate"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
export RAY_SERVE_QUEUE_LENGTH_RESPONSE_DEADLINE_S="${RAY_SERVE_QUEUE_LENGTH_RESPONSE_DEADLINE_S:-1.0}"
export RAY_USAGE_STATS_ENABLED=0
export SCRIBE_HOME="${SCRIBE_HOME:-$PWD/.scribe}"
export PYTHONUNBUFFERED=1
# the embedded default starts its own local Ray rather than joining a stale one
export RAY_ADDRESS="${RAY_ADDRESS:-local}"
