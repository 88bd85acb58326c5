"""Bench: the floor under issue 15's state reads: what the same load costs when the answer is free.

    . scripts/env.sh && python -m bench.perf.read_floor [--levels 64] [--seconds 30] [--rounds 2]

The real Serve app runs with its ``writers`` sessions written in real time, exactly as in
:mod:`bench.perf.state_reads`.  In the same run, ``clients`` back-to-back ``wrk`` connections read,
one variant after another (rounds alternate the order):

* ``state``: ``GET /v1/sessions/{sid}``, the product's read (token check, snapshot, JSON bytes), answered
  in the Ingress's HTTP server (``http.server_state_reads``) or, with ``--no-server-reads``, through
  Serve's request handling like every other route;
* ``serve_floor``: a second Serve app on the same HTTP front (``/floor``), ``--floor-replicas``
  replicas with the Ingress's own deployment options, whose pure ASGI middleware answers every request
  with the same bytes at once: Ray Serve's direct ingress and the front, with no work of this project's;
* ``uvicorn_floor``: the same middleware in plain uvicorn (uvloop, httptools) in its own process on
  another port: the box itself, without Ray Serve.

``serve_floor`` is what any read costs once it passes Serve's per-request handling; the reads the
Ingress's HTTP server answers (:mod:`serve_app.ingress.server_reads`) skip it.
Results: ``bench/results/read_floor[_<label>].json``.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time

import httpx
from fastapi import FastAPI
from ray import serve

from bench.harness.data import save_result
from bench.harness.serve import _free_port, start_serve_app, stop_serve_app
from bench.harness.wrk import require_wrk
from bench.perf.state_reads import _level, read_session
from serve_app.config import AppArgs
from serve_app.placement import deployment_options

__all__ = ["ConstantAnswer", "main"]


class ConstantAnswer:
    """Pure ASGI app answering every HTTP request ``200`` with ``body`` (JSON), nothing else."""

    def __init__(self, app=None, body: bytes = b"{}"):
        self.app, self.body = app, body
        self._headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            if self.app is not None:
                return await self.app(scope, receive, send)
            return None
        await send({"type": "http.response.start", "status": 200, "headers": self._headers})
        await send({"type": "http.response.body", "body": self.body})


@serve.deployment(name="Floor")
@serve.ingress()
class Floor:
    """The ``/floor`` app: FastAPI behind :class:`ConstantAnswer` (as the Ingress has its fast paths)."""

    def __init__(self, answer: bytes):
        self._answer = answer

    def __serve_build_asgi_app__(self):
        app = FastAPI()
        app.add_middleware(ConstantAnswer, body=self._answer)
        return app


def _deploy_floor(args: dict, body: bytes, replicas: int = 1) -> None:
    """``Floor`` with the Ingress's own deployment options (``replicas`` of it), on the same front at ``/floor``."""
    res = AppArgs.model_validate(args).resources.ingress.model_copy(update={"num_replicas": replicas})
    serve.run(Floor.options(**deployment_options(res, 0.0)).bind(body), name="floor", route_prefix="/floor",
              blocking=False)


def _start_uvicorn(body: bytes) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    code = ("import sys, uvicorn; from bench.perf.read_floor import ConstantAnswer; "
            "body = sys.stdin.buffer.read(); "
            f"uvicorn.run(ConstantAnswer(body=body), host='127.0.0.1', port={port}, loop='uvloop', "
            "http='httptools', log_level='warning', access_log=False)")
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE)
    proc.stdin.write(body)
    proc.stdin.close()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("uvicorn floor did not start")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--writers", type=int, default=16)
    parser.add_argument("--levels", default="64")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--floor-replicas", type=int, default=1, help="replicas of the /floor app")
    parser.add_argument("--no-server-reads", action="store_true",
                        help="http.server_state_reads: false (the state read through Serve's request handling)")
    parser.add_argument("--label", default="")
    args = parser.parse_args()
    require_wrk()
    from bench.harness.fakes.asr import encoded_wav
    from bench.harness.fakes.graph import FAKES

    chunk = encoded_wav(1, 2)
    app = start_serve_app({"http": {"server_state_reads": False}} if args.no_server_reads else {}, engines=FAKES)
    uvicorn_proc = None
    try:
        sid, body = read_session(app.url, chunk)
        _deploy_floor(app.args, body, args.floor_replicas)
        assert httpx.get(f"{app.url}/floor/x", timeout=30).content == body
        uvicorn_proc, uvicorn_url = _start_uvicorn(body)
        paths = {"state": f"/v1/sessions/{sid}", "serve_floor": "/floor/state", "uvicorn_floor": None}
        runs = []
        for r in range(args.rounds):
            order = list(paths) if r % 2 == 0 else list(reversed(paths))
            for n in args.levels.split(","):
                for variant in order:
                    url = uvicorn_url if paths[variant] is None else f"{app.url}{paths[variant]}"
                    level = asyncio.run(_level(app.url, sid, int(n), args.writers, args.seconds, chunk, "wrk",
                                               read_url=url))
                    runs.append({"round": r + 1, "variant": variant, **level})
                    print(f"round {r + 1} {variant:>13} clients={n}: {level['reads_per_s']} reads/s "
                          f"p50 {level['reads']['p50_ms']} ms p99 {level['reads']['p99_ms']} ms", flush=True)
    finally:
        if uvicorn_proc is not None:
            uvicorn_proc.kill()
        stop_serve_app()
    report = {"engines": "fake", "seconds": args.seconds, "writers": args.writers, "body_bytes": len(body),
              "floor_replicas": args.floor_replicas, "server_state_reads": not args.no_server_reads,
              "front": "haproxy" if os.environ.get("RAY_SERVE_ENABLE_HA_PROXY") == "1" else "serve_proxy",
              "runs": runs}
    print(json.dumps(report, indent=1))
    save_result("read_floor", args.label, report)


if __name__ == "__main__":
    main()
