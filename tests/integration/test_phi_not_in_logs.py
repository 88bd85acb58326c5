"""Planted PHI of every Safe Harbor class, said in segments, typed into an edited note and written in a
feedback reason, reaches neither the Ray/Serve logs (vLLM's included), the session journal, the note,
the flywheel's datasets and quarantine, nor any file at rest (names, audio and raw text are sealed)."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pyarrow.parquet as pq

#: said in the consultation (one value per class; written for this test, not taken from any split)
PLANTED = ["Zebulon Quatermaine", "07700 900 482", "zq.patient@example.org", "219-09-9999",
           "42 Willow Crescent", "SW1A 1AA", "12/03/1961", "+44 161 496 0733"]
#: typed by the clinician into an edited note, and into a feedback reason
TYPED = ["Margaret Thompson", "0161 496 0733", "Oldenzaal", "17-08-71"]


def _texts_at_rest(data_dir: Path) -> list[tuple[Path, str]]:
    """Every file under the data directory (and the quarantine root beside it) as text; Parquet decoded."""
    out = []
    for top in (data_dir, Path(f"{data_dir / 'flywheel'}-quarantine")):
        for path in top.rglob("*"):
            if not path.is_file():
                continue
            if path.suffix == ".parquet":
                content = json.dumps(pq.read_table(path).to_pylist(), default=str, ensure_ascii=False)
            else:
                content = path.read_bytes().decode("utf-8", "replace")
            out.append((path, content))
    return out


def test_planted_phi_stays_out_of_logs_journal_datasets_and_files_at_rest(serve_app, alice):
    import ray

    from bench.harness.serve import call_deployment

    sid = alice.create_session()
    text = (f"My name is {PLANTED[0]}, call me on {PLANTED[1]} or write to {PLANTED[2]}; "
            f"my social security number is {PLANTED[3]}.")
    address = (f"I live at {PLANTED[4]}, postcode {PLANTED[5]}. Date of birth is {PLANTED[6]}, "
               f"and my daughter is on {PLANTED[7]}.")
    clinical = f"{PLANTED[0]} has had chest pain and shortness of breath for three days."
    body = {"segments": [{"text": text, "role": "patient"}, {"text": address, "role": "patient"},
                         {"text": clinical, "role": "patient"}]}
    assert alice.http.post(f"/v1/sessions/{sid}/segments", json=body).status_code == 202
    deadline = time.monotonic() + 60
    while not alice.state(sid)["segments"] and time.monotonic() < deadline:
        time.sleep(0.2)
    alice.finish(sid)
    state = alice.wait_finished(sid, timeout=600)  # the note was written from the masked text
    masked = " ".join(s["text"] for s in state["segments"])
    note_text = " ".join(i["text"] for section in state["note"].values() for i in section)
    assert note_text
    names = alice.http.get(f"/v1/sessions/{sid}/names").json()
    assert set(names.values()) >= set(PLANTED)  # the owner can restore them

    edited = {s: [dict(i) for i in items] for s, items in state["note"].items()}
    edited["plan"] = edited["plan"] + [{"id": "typed", "text": f"Call {TYPED[0]} on {TYPED[1]} about the results.",
                                        "citations": []}]
    reply = alice.http.post(f"/v1/sessions/{sid}/feedback", json={
        "action": "edit", "note_version": state["note_version"], "note": edited,
        "reason": f"Her sister in {TYPED[2]} says the pain began on {TYPED[3]}."})
    assert reply.status_code == 201, reply.text
    call_deployment("Flywheel", "publish_now")

    time.sleep(2)  # let log monitors flush
    session_dir = Path(ray._private.worker._global_node.get_session_dir_path())
    logs = [(p, p.read_bytes().decode("utf-8", "replace")) for p in (session_dir / "logs").rglob("*") if p.is_file()]
    at_rest = _texts_at_rest(Path(serve_app.data_dir))
    assert logs and any(p.suffix == ".parquet" for p, _ in at_rest)
    assert any(p.name == "names.json" for p, _ in at_rest)  # present, but sealed
    for path, content in logs + at_rest:
        for value in PLANTED + TYPED:
            assert value not in content, f"PHI found in {path.name}"
    for value in PLANTED:
        assert value not in masked and value not in note_text
        assert value.split()[0] not in note_text
