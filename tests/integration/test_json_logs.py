"""Serve's logs are JSON (``logging_config`` in serve_config.yaml): every replica log line parses as one
object, requests carry a request id, and a session's records carry its keyed pseudonym, never its id."""
from __future__ import annotations

import json
import time
from pathlib import Path


def _records(session_dir: Path) -> list[tuple[Path, dict]]:
    out = []
    for path in (session_dir / "logs" / "serve").glob("replica_scribe_*.log"):
        for line in path.read_text(errors="replace").splitlines():
            if line.strip():
                out.append((path, json.loads(line)))  # a line that is not JSON fails the test here
    return out


def test_replica_logs_are_json_with_request_ids_and_the_session_pseudonym(serve_app, alice):
    import ray

    from serve_app.ingress.pseudonymizer import Pseudonymizer
    from serve_app.settings import Settings

    sid = alice.create_session()
    body = {"segments": [{"text": "The cough started a week ago and is worse at night.", "role": "patient"}]}
    assert alice.http.post(f"/v1/sessions/{sid}/segments", json=body).status_code == 202
    alice.finish(sid)
    alice.wait_finished(sid, timeout=600)
    pseudonym = Pseudonymizer.from_secret(None, str(Settings().pseudonym_key_path())).id("session", sid)

    session_dir = Path(ray._private.worker._global_node.get_session_dir_path())
    deadline = time.monotonic() + 30
    while True:
        records = _records(session_dir)
        finished = [r for _, r in records
                    if r.get("message", "").startswith("session step done:") and r.get("session") == pseudonym]
        if finished or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert finished, "the pipeline's records of this session's last steps"
    assert finished[0]["deployment"] == "scribe_Pipeline" and finished[0]["levelname"] == "INFO"
    assert {r.get("deployment") for _, r in records} >= {"scribe_Ingress", "scribe_Pipeline", "scribe_PII"}
    access = [r["message"] for _, r in records if r.get("deployment") == "scribe_Ingress" and r.get("request_id")]
    assert "POST /v1/sessions/{sid}/finish 202" in " ".join(access)  # the route template, never the id
    assert all(r.get("session", "") in ("", pseudonym) or r["session"].startswith("session_")
               for _, r in records)
    assert not any(sid in json.dumps(r) for _, r in records)  # the pseudonym, never the id, in any field
