#!/usr/bin/env bash
# The test command (CI runs it through .ci/run): the linter, then four tiers from
# fastest to slowest, each with its own time budget; pytest's "no tests ran"
# (exit 5) counts as a failure.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
bash scripts/system_packages.sh
export SCRIBE_HOME="$(mktemp -d /tmp/scribe-test-XXXX)"
status=0
echo "=== lint (ruff) ==="
if ! ruff check .; then echo "lint FAILED"; status=1; fi
tier() {
  local name=$1 budget=$2
  echo "=== tier $name (budget ${budget}s) ==="
  timeout --signal=INT --kill-after=30 "$budget" python -m pytest "tests/$name" -q -p no:cacheprovider --durations=8  # the slowest tests, for when a tier slows down
  local rc=$?
  if [ $rc -eq 5 ]; then echo "tier $name ran no tests"; rc=1; fi
  if [ $rc -ne 0 ]; then echo "tier $name FAILED (exit $rc)"; status=1; fi
}
tier unit 600
tier graph 600
tier cluster 600
tier integration 1500
tier e2e 1800
ray stop --force >/dev/null 2>&1 || true
exit $status
