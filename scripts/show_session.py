"""Print a session's state document (read from stdin) as a clinician would read it:
the masked transcript with roles, then the note with the segments each item cites,
then the guardrail warnings.  Used by scripts/quickstart.sh."""
import json
import sys

state = json.load(sys.stdin)
print(f"status: {state['status']} | segments: {len(state['segments'])} | note version: {state['note_version']}")
for seg in state["segments"]:
    print(f"  [{seg['id']}] {seg['role'] or '?':<8} {seg['text']}")
print("note:")
for section, items in (state["note"] or {}).items():
    for item in items:
        print(f"  {section:<10} {item['text']}  <- {', '.join(item['citations'])}")
for warning in state["warnings"]:
    print(f"  warning: {warning['kind']} on {warning['note_item']}: {warning['message']}")
