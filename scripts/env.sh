#!/usr/bin/env bash
# Shared environment for run/test/bench: the virtualenv, offline model hubs,
# Ray Serve tuning for 2 cores, and absolute SCRIBE_* paths.
VENV="${SCRIBE_VENV:-$HOME/.cache/clinical-scribe/venv}"
# shellcheck disable=SC1091
. "$VENV/bin/activate"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
export RAY_SERVE_QUEUE_LENGTH_RESPONSE_DEADLINE_S="${RAY_SERVE_QUEUE_LENGTH_RESPONSE_DEADLINE_S:-1.0}"
export RAY_USAGE_STATS_ENABLED=0
# Serve's high-throughput mode (docs/operations.md "HTTP front"): HAProxy on the HTTP port in front of
# direct-ingress replicas, gRPC between replicas, replica logs to files only. State reads at 64 clients
# went from p99 4.9 s to about 0.1 s (bench/results/state_reads_stop26_*). TLS needs the proxy instead:
# RAY_SERVE_ENABLE_HA_PROXY=0 (HAProxy mode serves plain HTTP). Request logs are written at once, not
# kept in a 1,000-record buffer (the mode's default), so ops see them while the app is quiet too.
export RAY_SERVE_ENABLE_HA_PROXY="${RAY_SERVE_ENABLE_HA_PROXY:-1}"
export RAY_SERVE_THROUGHPUT_OPTIMIZED="${RAY_SERVE_THROUGHPUT_OPTIMIZED:-1}"
export RAY_SERVE_REQUEST_PATH_LOG_BUFFER_SIZE="${RAY_SERVE_REQUEST_PATH_LOG_BUFFER_SIZE:-1}"
# Serve's per-request HTTP metrics in HAProxy mode are one syslog line per request, parsed in Python by
# the HAProxyManager actor: at 64 pollers that cost a fifth of the read throughput (2,688 -> 3,405 reads/s
# in a probe, docs/operations.md "HTTP front"). Off by default; HAProxy's own Prometheus exporter (on
# RAY_SERVE_HAPROXY_METRICS_PORT) still counts requests by status and backend (docs/operations.md).
export RAY_SERVE_HAPROXY_METRICS_ENABLED="${RAY_SERVE_HAPROXY_METRICS_ENABLED:-0}"
# HAProxy's files in a private directory: Serve's default (/tmp/haproxy-serve) is world-readable and
# its admin socket (mode 666, level admin) would let any local user re-point the front.
HAPROXY_DIR="${SCRIBE_HAPROXY_DIR:-/tmp/scribe-haproxy-$(id -u)}"
mkdir -p -m 700 "$HAPROXY_DIR" && chmod 700 "$HAPROXY_DIR"
export RAY_SERVE_HAPROXY_CONFIG_FILE_LOC="$HAPROXY_DIR/haproxy.cfg"
export RAY_SERVE_HAPROXY_SOCKET_PATH="$HAPROXY_DIR/admin.sock"
export RAY_SERVE_HAPROXY_METRICS_SOCKET_PATH="$HAPROXY_DIR/metrics.sock"
export RAY_SERVE_HAPROXY_SERVER_STATE_BASE="$HAPROXY_DIR"
export RAY_SERVE_HAPROXY_SERVER_STATE_FILE="$HAPROXY_DIR/server-state"
export SCRIBE_HOME="${SCRIBE_HOME:-$PWD/.scribe}"
export PYTHONUNBUFFERED=1
# the embedded default starts its own local Ray rather than joining a stale one
export RAY_ADDRESS="${RAY_ADDRESS:-local}"
