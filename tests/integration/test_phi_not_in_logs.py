"""Planted PHI reaches neither the Ray/Serve logs (vLLM's included), the session journal, nor the note."""
from __future__ import annotations

import time
from pathlib import Path

PLANTED = ["Zebulon Quatermaine", "07700 900 482", "zq.patient@example.org", "219-09-9999"]


def test_planted_phi_stays_out_of_logs_and_journal(serve_app, alice):
    import ray

    sid = alice.create_session()
    text = (f"My name is {PLANTED[0]}, call me on {PLANTED[1]} or write to {PLANTED[2]}; "
            f"my social security number is {PLANTED[3]}.")
    clinical = f"{PLANTED[0]} has had chest pain and shortness of breath for three days."
    body = {"segments": [{"text": text, "role": "patient"}, {"text": clinical, "role": "patient"}]}
    assert alice.http.post(f"/v1/sessions/{sid}/segments", json=body).status_code == 202
    deadline = time.monotonic() + 60
    while not alice.state(sid)["segments"] and time.monotonic() < deadline:
        time.sleep(0.2)
    alice.finish(sid)
    state = alice.wait_finished(sid, timeout=600)  # the note was written from the masked text
    masked = state["segments"][0]["text"]
    note_text = " ".join(i["text"] for section in state["note"].values() for i in section)
    assert note_text
    names = alice.http.get(f"/v1/sessions/{sid}/names").json()
    assert set(names.values()) >= set(PLANTED)  # the owner can restore them
    time.sleep(2)  # let log monitors flush
    session_dir = Path(ray._private.worker._global_node.get_session_dir_path())
    logs = [p for p in (session_dir / "logs").rglob("*") if p.is_file()]
    assert logs
    journal = serve_app.data_dir / "sessions" / sid / "events.jsonl"
    for path in logs + [journal]:
        content = path.read_bytes().decode("utf-8", "replace")
        for value in PLANTED:
            assert value not in content, f"PHI found in {path.name}"
    for value in PLANTED:
        assert value not in masked and value not in note_text
        assert value.split()[0] not in note_text
