"""The flywheel in the real app: feedback -> Parquet that Ray Data reads, PHI kept out, retries and a
SIGKILLed writer under load losing and doubling nothing."""
from __future__ import annotations

import concurrent.futures as cf
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pyarrow.dataset as pads
import pytest

from bench.harness.serve import ROOT
from flywheel.schemas import DATASETS

pytestmark = pytest.mark.integration

SEGMENTS = [
    {"text": "Hello, I'm Doctor Patel. What brings you in?", "role": "doctor"},
    {"text": "Hi, I'm Walter Kowalski, my number is 617-555-0123. I've had a sore throat for three days.",
     "role": "patient"},
    {"text": "Any fever?", "role": "doctor"},
    {"text": "Yes, about thirty eight degrees last night.", "role": "patient"},
    {"text": "Your throat is red. Take paracetamol 1 g every six hours and rest. Come back if not better in a week.",
     "role": "doctor"},
]
PLANTED = ("Walter Kowalski", "617-555-0123", "Beatrice Okafor", "Kowalski")


def _ray_data(root: Path) -> dict:
    """Counts, columns and ids of each dataset as Ray Data reads them (a fresh Ray in a subprocess)."""
    out = subprocess.run([sys.executable, "-m", "tests.integration.ray_data_read", str(root)], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    line = next((x for x in out.stdout.splitlines() if x.startswith("RESULT ")), None)
    assert line, out.stderr[-2000:]
    return json.loads(line[len("RESULT "):])


def _flywheel(method: str, timeout_s: float = 120.0):
    from bench.harness.serve import call_deployment

    return call_deployment("Flywheel", method, timeout_s=timeout_s)


def _root(serve_app) -> Path:
    return Path(serve_app.data_dir) / "flywheel"


def _rows(root: Path, name: str) -> list[dict]:
    files = [str(p) for p in (root / name).rglob("*.parquet") if not any(
        part.startswith(("_", ".")) for part in p.relative_to(root / name).parts)]
    return pads.dataset(files, schema=DATASETS[name]).to_table().to_pylist() if files else []


@pytest.fixture(scope="module")
def noted_session(serve_app):
    from bench.harness.client import ScribeClient
    from bench.harness.serve import TOKENS

    alice = ScribeClient(serve_app.url, TOKENS["alice"])
    sid = alice.create_session()
    assert alice.http.post(f"/v1/sessions/{sid}/segments", json={"segments": SEGMENTS}).status_code == 202
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        state = alice.state(sid)
        if state["note_version"] >= 1:
            return sid, state
        time.sleep(2)
    raise AssertionError("no note")


def _post(client, sid, body, key=None):
    headers = {"Idempotency-Key": key} if key else {}
    return client.http.post(f"/v1/sessions/{sid}/feedback", json=body, headers=headers)


def test_feedback_becomes_datasets_ray_data_reads_without_phi(serve_app, alice, bob, noted_session):
    sid, state = noted_session
    version = state["note_version"]
    assert "Walter Kowalski" in alice.http.get(f"/v1/sessions/{sid}/names").json().values()
    first_item = next(item for items in state["note"].values() for item in items)
    edited = {"subjective": [{"text": "Walter Kowalski (617-555-0123) reports a sore throat for three days with "
                                      "fever; his neighbour Beatrice Okafor drove him in.",
                              "citations": [first_item["citations"][0]] if first_item["citations"] else []}],
              "plan": [{"text": "Paracetamol 1 g every six hours; throat swab if not better in a week."}]}
    before = {name: len(_rows(_root(serve_app), name)) for name in DATASETS}
    accept = _post(alice, sid, {"action": "accept", "note_version": version}, key=f"a-{uuid.uuid4()}")
    edit_key = f"e-{uuid.uuid4()}"
    edit = _post(alice, sid, {"action": "edit", "note_version": version, "note": edited}, key=edit_key)
    reject = _post(alice, sid, {"action": "reject", "note_version": version, "reason": "Missed the fever."})
    assert [r.status_code for r in (accept, edit, reject)] == [201, 201, 201]
    retry = _post(alice, sid, {"action": "edit", "note_version": version, "note": edited}, key=edit_key)
    assert retry.status_code == 201 and retry.json() == edit.json()

    after_edit = alice.state(sid)
    assert after_edit["note_version"] == version + 1  # the edited note is the session's final note
    text = json.dumps(after_edit["note"])
    assert "[PERSON_" in text and not any(v in text for v in PLANTED)

    # typed errors
    assert _post(alice, sid, {"action": "edit", "note_version": version}).json()["error"]["code"] == "note_required"
    assert _post(alice, sid, {"action": "accept", "note_version": 999}).status_code == 409
    assert _post(bob, sid, {"action": "accept", "note_version": version}).status_code == 404
    assert alice.http.post(f"/v1/sessions/{sid}/feedback", content=b"{nope").status_code == 400
    assert _post(alice, sid, {"action": "approve", "note_version": version}).status_code == 422

    _flywheel("publish_now")
    root = _root(serve_app)
    read = _ray_data(root)
    counts = {name: read[name]["count"] - before[name] for name in ("feedback", "sft", "dpo")}
    assert counts == {"feedback": 3, "sft": 2, "dpo": 1}
    ids = {r.json()["feedback_id"] for r in (accept, edit, reject)}
    assert ids <= set(read["feedback"]["feedback_ids"])
    for name in ("feedback", "sft", "dpo"):
        assert read[name]["columns"][: len(DATASETS[name].names)] == DATASETS[name].names
    row = next(r for r in _rows(root, "dpo") if r["feedback_id"] == edit.json()["feedback_id"])
    assert "[PERSON_" in row["chosen"] and row["note_version"] == version and row["model_id"]
    # planted PHI reaches no file: decoded Parquet rows and every other file under the root
    for name in DATASETS:
        assert not any(v in json.dumps(r, default=str) for r in _rows(root, name) for v in PLANTED)
    for path in root.rglob("*"):
        if path.is_file() and path.suffix != ".parquet":
            data = path.read_bytes()
            assert not any(v.encode() in data for v in PLANTED), path.name


def test_a_killed_writer_under_load_loses_and_doubles_nothing(serve_app, noted_session):
    from bench.harness.serve import TOKENS

    sid, state = noted_session
    version = state["note_version"]
    per_client, clients = 8, 16
    acked: list[str] = []

    def client(c: int) -> list[str]:
        ids = []
        with httpx.Client(base_url=serve_app.url, timeout=60,
                          headers={"Authorization": f"Bearer {TOKENS['alice']}"}) as http:
            for i in range(per_client):
                key, body = f"crash-{c}-{i}-{uuid.uuid4()}", {"action": "reject", "note_version": version,
                                                              "reason": f"client {c} item {i}"}
                deadline = time.monotonic() + 240
                while True:
                    try:
                        r = http.post(f"/v1/sessions/{sid}/feedback", json=body, headers={"Idempotency-Key": key})
                        if r.status_code == 201:
                            ids.append(r.json()["feedback_id"])
                            break
                        assert r.status_code in (503, 500, 502, 504), r.text
                    except httpx.HTTPError:
                        pass
                    assert time.monotonic() < deadline, "feedback never acknowledged"
                    time.sleep(0.5)
        return ids

    pid = _flywheel("pid")
    with cf.ThreadPoolExecutor(clients) as pool:
        futures = [pool.submit(client, c) for c in range(clients)]
        time.sleep(1.5)
        os.kill(pid, signal.SIGKILL)  # the writer process dies mid-load
        for f in futures:
            acked.extend(f.result())
    assert len(acked) == clients * per_client and len(set(acked)) == len(acked)
    deadline = time.monotonic() + 180
    while True:
        try:
            if _flywheel("pid", timeout_s=10) != pid:
                break
        except Exception:
            pass
        assert time.monotonic() < deadline
        time.sleep(1)
    _flywheel("publish_now")
    published = [r["feedback_id"] for r in _rows(_root(serve_app), "feedback")]
    for fid in acked:
        assert published.count(fid) == 1, fid
