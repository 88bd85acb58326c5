#!/usr/bin/env bash
# System packages the tests need that pip cannot give: Debian's Chromium for the browser tests
# (Playwright drives it; its own browser download does not work here) and redis-server for the
# Redis session store's conformance and kill tests.  Installs only what is
# missing; needs root and apt-get (CI runs as root), otherwise says what to install.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "[system] installing ${missing[*]} (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "[system] please install: ${missing[*]} (Debian packages); the browser tests need them" >&2
  exit 1
fi
