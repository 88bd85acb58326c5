"""``wrk`` (Debian's C load generator) as the benchmarks' closed-loop HTTP client.

A Python client on a 2-core machine spends as much CPU as the server it measures; ``wrk`` keeps N
connections busy for a few percent of one core, so what it reports is the server's latency.  With
``think_ms`` each connection waits that long after each answer before it asks again (a Lua ``delay``
hook), as a screen polling every ``think_ms`` does; the wait is not part of the latency.
"""
from __future__ import annotations

import asyncio
import re
import shutil
import tempfile

__all__ = ["parse_wrk", "require_wrk", "run_wrk", "wrk_command"]


def require_wrk() -> None:
    """Exit with the install hint when ``wrk`` is not on PATH."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install -y wrk")


def wrk_command(url: str, connections: int, seconds: float, headers: dict[str, str] | None = None,
                script: str | None = None) -> list[str]:
    """One thread, ``connections`` connections, ``--latency`` for the percentiles, an optional Lua script."""
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", "--timeout", "30s"]
    if script:
        cmd += ["-s", script]
    for name, value in (headers or {}).items():
        cmd += ["-H", f"{name}: {value}"]
    return cmd + [url]


def parse_wrk(out: str, connections: int) -> dict:
    """p50/p90/p99 (ms), requests/s and every error count ``wrk`` printed."""
    def ms(label: str) -> float:
        value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", out).groups()
        return round(float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit], 2)

    errors = {}
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if sock:
        errors = {k: int(v) for k, v in zip(("connect", "read", "write", "timeout"), sock.groups()) if int(v)}
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        errors["non_2xx"] = int(non2xx.group(1))
    return {"connections": connections, "p50_ms": ms("50%"), "p90_ms": ms("90%"), "p99_ms": ms("99%"),
            "requests_per_s": round(float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), 1),
            "requests": int(re.search(r"(\d+) requests in", out).group(1)), "errors": errors}


async def run_wrk(url: str, connections: int, seconds: float, headers: dict[str, str] | None = None,
                  think_ms: int = 0) -> dict:
    """Run ``wrk`` without blocking the caller's event loop (its writers keep writing meanwhile)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(f"function delay()\n  return {int(think_ms)}\nend\n")
        script.flush()
        cmd = wrk_command(url, connections, seconds, headers, script.name if think_ms else None)
        proc = await asyncio.create_subprocess_exec(*cmd, stdout=asyncio.subprocess.PIPE,
                                                    stderr=asyncio.subprocess.PIPE)
        out, err = await proc.communicate()
    if proc.returncode:
        raise RuntimeError(f"wrk failed: {err.decode()[-300:]}")
    return parse_wrk(out.decode(), connections)
