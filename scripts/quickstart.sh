#!/usr/bin/env bash
# The README's quick start as a script: a text-only session and a short recording, each
# ending with its SOAP note.  Needs a running service (`make run`) and curl; JSON is read
# with python3.  BASE and TOKEN may be set; by default the local service and its dev token.
set -euo pipefail
cd "$(dirname "$0")/.."
BASE="${BASE:-http://127.0.0.1:8000}"
TOKEN="${TOKEN:-$(cat "${SCRIBE_HOME:-.scribe}/dev-token")}"
AUTH="Authorization: Bearer $TOKEN"
field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
wait_finished() {
  for _ in $(seq 1 600); do
    status=$(curl -sf -H "$AUTH" "$BASE/v1/sessions/$1" | field status)
    [ "$status" = finished ] && return 0
    sleep 1
  done
  echo "session $1 did not finish" >&2; return 1
}

echo "== health"; curl -sf "$BASE/healthz"; echo

echo "== 1. a typed transcript"
SID=$(curl -sf -H "$AUTH" -X POST "$BASE/v1/sessions" -d '{}' | field session_id)
curl -sf -H "$AUTH" -H 'Content-Type: application/json' -X POST "$BASE/v1/sessions/$SID/segments" \
     --data-binary @docs/quickstart/segments.json > /dev/null
curl -sf -H "$AUTH" -X POST "$BASE/v1/sessions/$SID/finish" -d '{}' > /dev/null
wait_finished "$SID"
curl -sf -H "$AUTH" "$BASE/v1/sessions/$SID" | python3 scripts/show_session.py
echo "  names (owner only): $(curl -sf -H "$AUTH" "$BASE/v1/sessions/$SID/names")"

echo "== 2. a recording, streamed as five chunks"
SID=$(curl -sf -H "$AUTH" -X POST "$BASE/v1/sessions" -d '{}' | field session_id)
for seq in 0 1 2 3 4; do
  curl -sf -H "$AUTH" -H 'Content-Type: audio/flac' -X PUT "$BASE/v1/sessions/$SID/audio/$seq" \
       --data-binary "@docs/quickstart/chunk-$seq.flac"; echo
done
curl -sf -H "$AUTH" -X POST "$BASE/v1/sessions/$SID/finish" -d '{}' > /dev/null
wait_finished "$SID"
curl -sf -H "$AUTH" "$BASE/v1/sessions/$SID" | python3 scripts/show_session.py
