"""DELETE's erasure: the flywheel sweep (spool, every snapshot, quarantine), the ledger that finishes an
erasure cut short (even by SIGKILL), and the 202 answer while a step is pending (no Ray)."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap

import pyarrow.dataset as pads
import pytest

from flywheel.compact import compact
from flywheel.phi_scan import PhiScanner
from flywheel.records import Feedback, FlywheelRules
from flywheel.writer import FlywheelWriter, quarantine_root_for
from serve_app.errors import NotFound
from serve_app.ingress.erasure import Eraser, ErasureLedger
from tests.unit.test_flywheel_writer import NOTE, SEGMENTS, edited


def _fb(fid, session, text="Rest and fluids."):
    return Feedback(feedback_id=fid, session=session, clinician="clin-a", action="edit", note_version=3,
                    generated_note=NOTE, segments=SEGMENTS, received_at=1_790_000_000.0, final_note=edited(text),
                    model_id="m", prompt_version="p1", config={})


def _john(text):
    return [(m, m + 10, "PERSON") for m in [text.find("John Smith")] if m >= 0]


def _ids(path):
    files = [os.path.join(d, f) for d, _, fs in os.walk(path) for f in fs
             if f.endswith(".parquet") and "/_" not in d.replace(path, "")]
    return sorted(pads.dataset(files).to_table(columns=["feedback_id"]).column("feedback_id").to_pylist()) if files else []


def _writer(root):
    return FlywheelWriter(str(root), FlywheelRules(), PhiScanner(_john))


def _populated(root):
    w = _writer(root)
    for i in range(3):  # three publications, then a compaction: the old snapshot keeps hard links
        w.submit(_fb(f"a{i}", "session_a", f"Start drug {i} at 10 mg daily."))
        w.submit(_fb(f"b{i}", "session_b"))
        w.publish()
    w.submit(_fb("aq", "session_a", "Call John Smith about it."))  # goes to the quarantine
    w.publish()
    compact(str(root))
    w.submit(_fb("a-spooled", "session_a"))  # acknowledged, not yet published
    return w


def test_erase_removes_the_session_from_spool_every_snapshot_and_the_quarantine(tmp_path):
    w = _populated(tmp_path / "fw")
    removed = w.erase("session_a")
    assert removed["spool"] == 1 and removed["feedback"] == 3 and removed["sft"] == 3 and removed["quarantine"] == 3
    for dataset in ("feedback", "sft"):
        assert _ids(str(tmp_path / "fw" / dataset)) == ["b0", "b1", "b2"]
    snapshots = str(tmp_path / "fw" / "_snapshots")
    assert not [i for i in _ids(snapshots) if i.startswith("a")]  # older snapshot versions too
    assert _ids(quarantine_root_for(str(tmp_path / "fw"))) == []
    assert w.submit(_fb("a-late", "session_a")) is False  # tombstoned: late feedback refused
    assert w.erase("session_a")["feedback"] == 0  # idempotent


_KILLED_MID_SWEEP = textwrap.dedent("""
    import os, signal, sys
    import flywheel.erase as erase
    from flywheel.phi_scan import PhiScanner
    from flywheel.records import FlywheelRules
    from flywheel.writer import FlywheelWriter
    real, calls = erase._sweep_file, []
    def sweep_then_die(root, rel, session):
        hits = real(root, rel, session)
        if hits:
            calls.append(rel)
            if len(calls) == 2:
                os.kill(os.getpid(), signal.SIGKILL)  # killed after two files were rewritten
        return hits
    erase._sweep_file = sweep_then_die
    FlywheelWriter(sys.argv[1], FlywheelRules(), PhiScanner(lambda t: [])).erase("session_a")
""")


def test_an_erasure_killed_by_sigkill_is_finished_by_the_next_start(tmp_path):
    root = tmp_path / "fw"
    _populated(root)
    ledger = ErasureLedger(tmp_path / "erasures")
    ledger.save({"sid": "sid-a", "clinician": "alice", "session": "session_a", "requested_at": 0.0,
                 "done": ["session", "pipeline_cache"], "attempts": 0})  # what DELETE records before it starts
    killed = subprocess.run([sys.executable, "-c", _KILLED_MID_SWEEP, str(root)], cwd=os.getcwd())
    assert killed.returncode == -signal.SIGKILL
    assert [i for i in _ids(str(root / "feedback")) + _ids(str(root / "sft")) if i.startswith("a")]  # half done

    restarted = _writer(root)  # the next start: a fresh writer and the ingress's retry of the ledger
    eraser = Eraser(ledger, _never_called, {"flywheel": lambda who, sid, session: _to_thread(restarted.erase, session)},
                    lambda sid: "session_a")
    assert asyncio.run(eraser.retry_pending()) == 0
    assert ledger.pending() == []
    for dataset in ("feedback", "sft", "dpo"):
        assert not [i for i in _ids(str(root / dataset)) if i.startswith("a")], dataset
    assert not [i for i in _ids(str(root / "_snapshots")) if i.startswith("a")]


async def _never_called(*_):
    raise AssertionError("no ownership check for a recorded erasure")


async def _to_thread(fn, *args):
    return await asyncio.to_thread(fn, *args)


class Steps:
    """Erasure steps that record calls; ``flywheel`` fails until ``heal()``."""

    def __init__(self):
        self.calls, self.broken = [], True
        self.steps = {"session": self._step("session"), "pipeline_cache": self._step("pipeline_cache"),
                      "flywheel": self._step("flywheel")}

    def heal(self):
        self.broken = False

    def _step(self, name):
        async def run(who, sid, session):
            self.calls.append((name, sid, session))
            if name == "flywheel" and self.broken:
                raise ConnectionError("flywheel unreachable")
        return run


async def _owns(clinician, sid):
    if clinician != "alice":
        raise NotFound("No such session.", code="session_not_found")
    return True


def test_a_failing_step_leaves_the_erasure_pending_and_a_restart_finishes_it(tmp_path):
    steps = Steps()
    eraser = Eraser(ErasureLedger(tmp_path), _owns, steps.steps, lambda sid: f"session_{sid}")
    with pytest.raises(NotFound):
        asyncio.run(eraser.erase("bob", "s1"))
    assert asyncio.run(eraser.erase("alice", "s1")) == ["flywheel"]
    assert ErasureLedger(tmp_path).pending()[0]["done"] == ["session", "pipeline_cache"]
    with pytest.raises(NotFound):  # the pending erasure is alice's
        asyncio.run(eraser.erase("bob", "s1"))
    steps.heal()
    again = Eraser(ErasureLedger(tmp_path), _owns, steps.steps, lambda sid: f"session_{sid}")  # after a restart
    assert asyncio.run(again.retry_pending()) == 0
    assert ErasureLedger(tmp_path).pending() == []
    assert [c[0] for c in steps.calls].count("session") == 1  # done steps are not run twice
    assert ("flywheel", "s1", "session_s1") in steps.calls


def test_delete_answers_202_with_the_pending_steps_then_204(tmp_path):
    from fastapi.testclient import TestClient

    from serve_app.config import LimitsConfig
    from serve_app.ingress.auth import TokenAuth
    from serve_app.ingress.routes import create_api
    from serve_app.ingress.service import ScribeService
    from serve_app.sessions.client import LocalTransport, StoreClient
    from serve_app.sessions.disk_journal import DiskJournal
    from serve_app.sessions.store import SessionStore

    store = StoreClient(LocalTransport(SessionStore(DiskJournal(tmp_path / "data"))))
    steps = Steps()
    steps.steps["session"] = lambda who, sid, _: store.api.delete_session(who, sid)
    eraser = Eraser(ErasureLedger(tmp_path / "erasures"), store.api.session_exists, steps.steps, lambda s: "p")
    service = ScribeService(store, lambda sid: None, LimitsConfig(), {}, eraser=eraser)
    client = TestClient(create_api(service, TokenAuth({"alice-token-0123456789": "alice"}), 15.0))
    auth = {"Authorization": "Bearer alice-token-0123456789"}
    sid = client.post("/v1/sessions", json={}, headers=auth).json()["session_id"]
    first = client.delete(f"/v1/sessions/{sid}", headers=auth)
    assert first.status_code == 202 and first.json() == {"status": "erasure_pending", "pending": ["flywheel"]}
    assert client.get(f"/v1/sessions/{sid}", headers=auth).status_code == 404  # the session itself is gone
    steps.heal()
    assert client.delete(f"/v1/sessions/{sid}", headers=auth).status_code == 204  # a retry finishes it
    assert client.delete(f"/v1/sessions/{sid}", headers=auth).status_code == 404
    for odd in (".hidden", "..", "%2E%2E"):
        assert client.delete(f"/v1/sessions/{odd}", headers=auth).status_code in (404, 405), odd


def test_the_pipeline_drops_an_erased_sessions_decoded_audio(tmp_path):
    from bench.harness.fakes.local_store import local_client
    from serve_app.config import AsrConfig, PipelineConfig
    from serve_app.pipeline.processor import SessionProcessor
    from serve_app.sessions.disk_journal import DiskJournal
    from serve_app.sessions.store import SessionStore

    store = SessionStore(DiskJournal(tmp_path))
    processor = SessionProcessor(local_client(store), None, None, AsrConfig(), PipelineConfig())
    sid = store.api.create_session("a")["session_id"]
    processor._pcm[(sid, 0)] = processor._pcm[("other", 0)] = object()
    store.api.delete_session("a", sid)
    assert asyncio.run(processor.step(sid)) is False  # another replica, told nothing, finds it gone
    assert list(processor._pcm) == [("other", 0)]
