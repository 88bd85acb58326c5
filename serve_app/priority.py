"""CPU priority of a replica: live transcription first, best-effort work after.

Ray already starts every worker process at niceness 15 (``RAY_worker_niceness``), so the live
stages run at 15 and a best-effort deployment must ask for more (the shipped config: 19, which
the kernel weighs about 2.4 times lighter than 15).
``resources.<deployment>.nice`` (0-19) reaches the replica's process as ``SCRIBE_NICE``
(:func:`serve_app.placement.deployment_options`); :func:`lower_priority` applies it with
``os.nice`` once per process, before any engine starts its worker processes and threads
(they inherit it).  On a shared box the kernel then runs ASR, PII and roles first and
notes, guardrails and the flywheel in the time left.
"""
from __future__ import annotations

import os

__all__ = ["NICE_ENV", "lower_priority"]

NICE_ENV = "SCRIBE_NICE"


def lower_priority() -> int:
    """Raise this process's niceness to ``$SCRIBE_NICE`` (never lower it); returns the niceness."""
    want = int(os.environ.get(NICE_ENV, "0") or 0)
    now = os.nice(0)
    if want > now:
        now = os.nice(want - now)
    return now
