"""Back-pressure as configured (``resources.<deployment>.max_queued_requests`` + ``retry_after_s`` through
``serve_app.placement.deployment_options``): past the queue, Serve's proxy answers 503 with
``Retry-After`` at once instead of queueing without bound, and what was admitted is answered."""
from __future__ import annotations

import asyncio

import httpx


def test_a_full_queue_answers_503_with_retry_after_and_admitted_requests_complete(serve_app):
    from ray import serve

    from serve_app.config import DeploymentResources
    from serve_app.placement import deployment_options

    res = DeploymentResources(num_cpus=0, max_ongoing_requests=1, max_queued_requests=2, retry_after_s=3)

    @serve.deployment
    class Slow:
        async def __call__(self, request) -> str:
            await asyncio.sleep(1.0)
            return "done"

    serve.run(Slow.options(**deployment_options(res, 0.0)).bind(), name="backpressure", route_prefix="/bp")
    try:
        async def burst() -> list[httpx.Response]:
            async with httpx.AsyncClient(base_url=serve_app.url, timeout=60) as http:
                return await asyncio.gather(*(http.get("/bp") for _ in range(10)))

        answers = asyncio.run(burst())
        refused = [r for r in answers if r.status_code == 503]
        served = [r for r in answers if r.status_code == 200]
        assert refused and served and len(refused) + len(served) == 10
        assert all(r.headers.get("retry-after") == "3" for r in refused)
        assert all(r.text == "done" for r in served)
        assert len(served) <= 1 + 2 + 1  # one running, two queued (+1: Serve admits slightly loosely)
    finally:
        serve.delete("backpressure")
