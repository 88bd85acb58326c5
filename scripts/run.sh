#!/usr/bin/env bash
# The main job on the embedded CPU default: a local Ray, the Serve app from
# serve_config.yaml on http://127.0.0.1:8000, real models from packages.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
mkdir -p "$SCRIBE_HOME"
if [ -z "${SCRIBE_API_TOKENS:-}" ]; then
  echo "[run] no SCRIBE_API_TOKENS: the development token will be in $SCRIBE_HOME/dev-token"
fi
scribe reap-haproxy  # HAProxy a crashed run left on the port (Ray 2.60 does not stop it with the app)
exec serve run serve_config.yaml
