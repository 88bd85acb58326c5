"""Untrusted uploads are decoded in a child process whose memory and CPU time are bounded.

The ingress checks every chunk before it is stored (format, codec, duration: see
:func:`~serve_app.engines.audio.decode_audio`).  FFmpeg parsing hostile bytes is the riskiest code
the service runs, so it runs in a :class:`DecoderSandbox`: a one-process pool whose worker has an
address-space limit (``RLIMIT_AS``: a decoder that tries to allocate past it gets a MemoryError, not
the replica's memory) and a CPU-time limit (``RLIMIT_CPU``: a worker that spins is killed by the
kernel), and every decode has a wall-clock deadline.  A worker that dies (a crash in native code,
a limit) or overruns is replaced and the upload gets a typed 422; the replica carries on.  Only
the duration and channel count come back (no samples cross the process boundary).
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import multiprocessing
import os
from concurrent.futures.process import BrokenProcessPool
from typing import Callable

from serve_app.errors import InvalidAudio

__all__ = ["DecoderSandbox", "probe_audio"]


def _limit(memory_bytes: int, cpu_s: int) -> None:
    """Worker initializer: single-threaded math libraries, then the hard limits."""
    import resource

    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 5))


def probe_audio(data: bytes, content_type: str | None, max_seconds: float) -> tuple[float, int]:
    """(duration in seconds, channels) of a chunk, decoded with the budget of ``max_seconds``."""
    from serve_app.engines.audio import decode_audio

    audio = decode_audio(data, content_type, max_seconds)
    return audio.duration_s, audio.channels


def _run(fn: Callable, args: tuple):
    """In the worker: ``fn(*args)``; typed errors travel back as themselves (they pickle)."""
    try:
        return fn(*args)
    except MemoryError:
        raise InvalidAudio("Decoding the audio needed more memory than allowed.", code="decode_memory") from None


class DecoderSandbox:
    """A bounded child process for decoding (see the module doc).

    Args:
        memory_mb: the worker's address-space limit.
        timeout_s: the deadline of one decode (wall clock).
        cpu_s: CPU seconds a worker may use in its life before the kernel stops it (it is replaced).
        fn: the decode run in the worker (a module-level function; :func:`probe_audio` by default).
    """

    def __init__(self, memory_mb: int = 1024, timeout_s: float = 10.0, cpu_s: int = 600,
                 fn: Callable = probe_audio):
        self.memory_bytes, self.timeout_s, self.cpu_s, self.fn = memory_mb << 20, timeout_s, cpu_s, fn
        self.restarts = 0
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None

    def _executor(self) -> concurrent.futures.ProcessPoolExecutor:
        if self._pool is None:
            self._pool = concurrent.futures.ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"), initializer=_limit,
                initargs=(self.memory_bytes, self.cpu_s))
        return self._pool

    def _replace(self) -> None:
        """Kill the worker (it may be spinning or dead) and start afresh on the next call."""
        pool, self._pool = self._pool, None
        self.restarts += 1
        if pool is not None:
            for proc in list(getattr(pool, "_processes", {}).values()):
                proc.kill()
            pool.shutdown(wait=False, cancel_futures=True)

    async def run(self, *args):
        """``fn(*args)`` in the worker; typed errors come back as themselves, running out of memory is a
        422 ``decode_memory``, a crash ``undecodable_audio`` and an overrun ``decode_timeout`` (the
        worker is replaced)."""
        loop = asyncio.get_running_loop()
        try:
            future = loop.run_in_executor(self._executor(), _run, self.fn, args)
            outcome = await asyncio.wait_for(future, self.timeout_s)
        except asyncio.TimeoutError:
            self._replace()
            raise InvalidAudio(f"Decoding the audio took longer than {self.timeout_s:g} s.",
                               code="decode_timeout") from None
        except BrokenProcessPool:
            self._replace()
            raise InvalidAudio("The audio could not be decoded.", code="undecodable_audio") from None
        return outcome

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
