"""An engine process left behind by a killed Notes replica is stopped by the next replica; processes
of a live replica, and unmarked ones, are left alone (no Ray, no vLLM: marked ``sleep`` processes)."""
from __future__ import annotations

import os
import signal
import subprocess
import time

from serve_app.engines.notes.orphans import MARKER, reap_orphans


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _child_pids(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def test_a_marked_engine_process_outliving_its_replica_is_reaped_and_others_are_not():
    # a "replica" (bash) that marks and starts an "engine" (sleep), as Notes does with AsyncLLM
    replica = subprocess.Popen(["bash", "-c", f"export {MARKER}=$$; sleep 120 & wait"], start_new_session=True)
    unmarked = subprocess.Popen(["sleep", "120"])
    deadline = time.monotonic() + 10
    while not _child_pids(replica.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    (engine,) = _child_pids(replica.pid)
    try:
        assert engine not in reap_orphans() and _alive(engine)  # its replica is alive: left alone
        os.kill(replica.pid, signal.SIGKILL)  # the replica is killed; the engine lives on
        replica.wait()
        assert _alive(engine)
        assert engine in reap_orphans()
        time.sleep(0.2)
        assert not _alive(engine) and unmarked.poll() is None  # unmarked processes are never touched
    finally:
        for pid in (engine, unmarked.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        unmarked.wait()
