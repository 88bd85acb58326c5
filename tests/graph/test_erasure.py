"""DELETE through the real graph reaches the flywheel; PHI files at rest are sealed (issue 14)."""
from __future__ import annotations

import time
from pathlib import Path

import pyarrow.dataset as pads
import pytest

from flywheel.writer import quarantine_root_for
from serve_app.sealing import MAGIC

pytestmark = pytest.mark.graph


def _feedback_ids(root: str, dataset: str) -> set[str]:
    path = Path(quarantine_root_for(root) if dataset == "quarantine" else root) / dataset
    files = [str(p) for p in path.rglob("*.parquet") if not any(part.startswith(("_", ".")) for part in p.parts[-2:])]
    if not files:
        return set()
    return set(pads.dataset(files, format="parquet").to_table(columns=["feedback_id"]).column("feedback_id").to_pylist())


def _wait_published(root: str, feedback_id: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if feedback_id in _feedback_ids(root, "feedback"):
            return
        time.sleep(0.3)
    raise AssertionError("feedback never published")


def _finished_session_with_feedback(client, text: str) -> tuple[str, str]:
    sid = client.create_session()
    client.http.post(f"/v1/sessions/{sid}/segments", json={"segments": [{"text": text, "role": "patient"}]})
    client.finish(sid)
    client.wait_finished(sid, timeout=60)
    version = client.state(sid)["note_version"]
    reply = client.http.post(f"/v1/sessions/{sid}/feedback", json={"action": "accept", "note_version": version})
    assert reply.status_code == 201
    return sid, reply.json()["feedback_id"]


def test_delete_erases_the_session_and_its_flywheel_rows(serve_app, alice, bob):
    root = str(Path(serve_app.data_dir) / "flywheel")
    sid, fid = _finished_session_with_feedback(alice, "Margaret Thompson here, my ankle is swollen.")
    kept_sid, kept_fid = _finished_session_with_feedback(bob, "Bob Stone here, my wrist hurts.")
    _wait_published(root, fid)
    _wait_published(root, kept_fid)
    names = serve_app.raw_names(sid)
    assert names.startswith(MAGIC) and b"Thompson" not in names  # sealed at rest (in Redis on this tier)
    assert fid in _feedback_ids(root, "sft")

    assert bob.http.delete(f"/v1/sessions/{sid}").status_code == 404  # not bob's
    assert alice.http.delete(f"/v1/sessions/{sid}").status_code == 204
    for dataset in ("feedback", "sft", "dpo", "quarantine"):
        assert fid not in _feedback_ids(root, dataset), dataset
    assert kept_fid in _feedback_ids(root, "feedback") and kept_fid in _feedback_ids(root, "sft")
    assert not serve_app.stored_anywhere(sid)
    assert alice.http.get(f"/v1/sessions/{sid}").status_code == 404
    assert list((Path(serve_app.data_dir) / "erasures").glob("*.json")) == []
    assert alice.http.delete(f"/v1/sessions/{sid}").status_code == 404  # done: nothing left to erase
