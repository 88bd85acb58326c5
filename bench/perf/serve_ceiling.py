"""Bench: the ceiling of Ray Serve's HTTP path on this machine, with nothing of the product in it.

    . scripts/env.sh && python -m bench.perf.serve_ceiling [--direct-ingress] [--haproxy] [--label L]

One FastAPI ingress deployment answers ``GET /s`` with a constant 6 KB JSON body (the size of a
40-segment state document); ``wrk`` (Debian's package; a C load generator, so the client costs
little CPU) keeps 1, 16 and 64 connections busy for 8 s each and reports p50/p90/p99 and requests/s.
This is what any route of the app can at best do here: the state-read goal of issue 15 is judged
against it; results ``bench/results/serve_ceiling[_<label>].json``.

``--direct-ingress`` sets ``RAY_SERVE_ENABLE_DIRECT_INGRESS=1`` (the replica serves HTTP itself on
port 30000, no proxy); ``--throughput-optimized`` sets ``RAY_SERVE_THROUGHPUT_OPTIMIZED=1``;
``--haproxy`` sets ``RAY_SERVE_ENABLE_HA_PROXY=1`` (Serve runs HAProxy on the HTTP port in front of
direct-ingress replicas).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile

from bench.harness.data import RESULTS
from bench.harness.wrk import require_wrk, run_wrk

BODY = json.dumps({"segments": [{"id": f"s{k}", "text": "x" * 80} for k in range(40)]}).encode()


def _wrk(url: str, connections: int) -> dict:
    return asyncio.run(run_wrk(url, connections, 8))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--direct-ingress", action="store_true")
    parser.add_argument("--throughput-optimized", action="store_true")
    parser.add_argument("--haproxy", action="store_true", help="RAY_SERVE_ENABLE_HA_PROXY=1: HAProxy on the port")
    parser.add_argument("--label", default="", help="results go to bench/results/serve_ceiling[_<label>].json")
    args = parser.parse_args()
    require_wrk()
    if args.direct_ingress:
        os.environ["RAY_SERVE_ENABLE_DIRECT_INGRESS"] = "1"
    if args.haproxy:
        os.environ["RAY_SERVE_ENABLE_HA_PROXY"] = "1"
    if args.throughput_optimized:
        os.environ["RAY_SERVE_THROUGHPUT_OPTIMIZED"] = "1"
    os.environ.setdefault("RAY_SERVE_QUEUE_LENGTH_RESPONSE_DEADLINE_S", "1.0")
    import ray
    from fastapi import FastAPI
    from fastapi.responses import Response
    from ray import serve

    app = FastAPI()

    @serve.deployment(max_ongoing_requests=256, ray_actor_options={"num_cpus": 0.1})
    @serve.ingress(app)
    class Constant:
        @app.get("/s")
        async def s(self):
            return Response(BODY, media_type="application/json")

    ray.init(address="local", _temp_dir=tempfile.mkdtemp(prefix="ray", dir="/tmp"), num_cpus=2,
             include_dashboard=False)
    serve.start(http_options={"host": "127.0.0.1", "port": 8123})
    serve.run(Constant.bind(), route_prefix="/")
    url = "http://127.0.0.1:30000/s" if args.direct_ingress else "http://127.0.0.1:8123/s"
    levels = [_wrk(url, n) for n in (1, 16, 64)]
    serve.shutdown()
    ray.shutdown()
    result = {"direct_ingress": args.direct_ingress, "haproxy": args.haproxy,
              "throughput_optimized": args.throughput_optimized, "levels": levels}
    text = json.dumps(result, indent=1)
    print(text)
    name = f"serve_ceiling_{args.label}.json" if args.label else "serve_ceiling.json"
    (RESULTS / name).write_text(text + "\n")


if __name__ == "__main__":
    main()
