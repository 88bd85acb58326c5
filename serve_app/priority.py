"""CPU priority of a replica: live transcription first, best-effort work after.

Ray already starts every worker process at niceness 15 (``RAY_worker_niceness``), so the live
stages run at 15 and a best-effort deployment must ask for more (the shipped config: 19, which
the kernel weighs about 2.4 times lighter than 15).
``resources.<deployment>.nice`` (0-19) reaches the replica's process as ``SCRIBE_NICE``
(:func:`serve_app.placement.deployment_options`); :func:`lower_priority` applies it once per
process, before any engine starts its worker processes and threads (they inherit it).  On a
shared box the kernel then runs ASR, PII and roles first and notes, guardrails and the flywheel
in the time left.

On Linux a niceness belongs to a *thread*: ``os.nice`` lowers only the thread that calls it.  A
replica's constructor runs in another thread than the process's main one, so the main thread
(Ray's core worker) and Ray's own threads kept niceness 15 (``ps -L`` showed the flywheel's,
notes' and guardrails' main threads at 15).  So every thread the process has is lowered
(``/proc/self/task``); threads started later inherit from the thread that starts them.
"""
from __future__ import annotations

import os

__all__ = ["NICE_ENV", "lower_priority"]

NICE_ENV = "SCRIBE_NICE"


def lower_priority() -> int:
    """Raise the niceness of every thread of this process to ``$SCRIBE_NICE`` (never lower one);
    returns the calling thread's niceness."""
    want = int(os.environ.get(NICE_ENV, "0") or 0)
    for tid in _threads():
        try:
            if os.getpriority(os.PRIO_PROCESS, tid) < want:
                os.setpriority(os.PRIO_PROCESS, tid, want)
        except ProcessLookupError:  # a thread that ended meanwhile
            continue
    return os.nice(0)


def _threads() -> list[int]:
    """This process's thread ids (Linux); elsewhere the niceness is the process's own."""
    try:
        return [int(t) for t in os.listdir("/proc/self/task")]
    except OSError:
        return [0]
