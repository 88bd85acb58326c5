"""Log records name a session by its pseudonym (``serve_app.log_context``), within the task that works on it."""
from __future__ import annotations

import asyncio
import logging

from serve_app import log_context


class Collect(logging.Handler):
    def __init__(self):
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


def test_each_task_logs_as_its_own_session_by_pseudonym():
    serve = logging.getLogger("t.serve")  # stands for Serve's replica logger and its JSON file handler
    serve.setLevel(logging.INFO)
    sink = Collect()
    serve.addHandler(sink)
    logger = logging.getLogger("t.app.pipeline")  # an app logger: written through Serve's handlers
    log_context.install(lambda sid: f"session_{sid[::-1]}", serve_logger="t.serve", app_logger="t.app")

    async def work(sid: str) -> None:
        log_context.enter_session(sid)
        await asyncio.sleep(0)
        logger.info("step")

    async def main() -> None:
        await asyncio.gather(asyncio.create_task(work("abc")), asyncio.create_task(work("xyz")))
        logger.info("outside any session")

    asyncio.run(main())
    assert sorted(r.session for r in sink.records[:2]) == ["session_cba", "session_zyx"]
    assert sink.records[2].session == ""
    assert all("abc" != r.session and "xyz" != r.session for r in sink.records)
    serve.info("a Serve record inside no session")
    assert sink.records[-1].session == ""
    log_context.install(lambda sid: "again", serve_logger="t.serve", app_logger="t.app")  # idempotent
    logger.info("once")
    assert [r.getMessage() for r in sink.records].count("once") == 1


def test_the_session_id_is_read_from_api_paths_only():
    assert log_context.session_from_path("/v1/sessions/3f2a-9/audio/4") == "3f2a-9"
    assert log_context.session_from_path("/v1/sessions/3f2a-9") == "3f2a-9"
    assert log_context.session_from_path("/v1/sessions") == ""
    assert log_context.session_from_path("/healthz") == ""


def test_the_middleware_sets_the_session_for_the_request():
    seen = []

    async def app(scope, receive, send):
        seen.append(log_context._session.get())

    log_context.install(lambda sid: "session_" + sid.upper(), serve_logger="t.serve2", app_logger="t.app2")
    middleware = log_context.SessionLogMiddleware(app)
    asyncio.run(middleware({"type": "http", "path": "/v1/sessions/ab12/state"}, None, None))
    asyncio.run(middleware({"type": "http", "path": "/healthz"}, None, None))
    assert seen == ["session_AB12", ""]


def test_only_fast_successful_state_polls_lose_their_access_log_line():
    import logging

    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record.getMessage())

    logger = logging.getLogger("t.poll")
    logger.handlers[:] = [Keep()]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    log_context.quiet_routine_polls("/v1/sessions/{sid}", 100.0, serve_logger="t.poll")
    log_context.quiet_routine_polls("/v1/sessions/{sid}", 100.0, serve_logger="t.poll")  # idempotent
    access = {"serve_access_log": True}
    for message in ("GET /v1/sessions/{sid} 200 3.1ms",            # routine poll: dropped
                    "127.0.0.1:5 GET /v1/sessions/{sid} 200 9.0ms",  # with the client address: dropped
                    "GET /v1/sessions/{sid} 200 250.0ms",           # slow: kept
                    "GET /v1/sessions/{sid} 404 2.0ms",             # error: kept
                    "GET /v1/sessions/{sid}/events 200 2.0ms",      # another route: kept
                    "PUT /v1/sessions/{sid}/audio/{seq} 202 8.0ms"):
        logger.info(message, extra=access)
    logger.info("GET /v1/sessions/{sid} 200 3.1ms")  # not an access-log record: kept
    assert records == ["GET /v1/sessions/{sid} 200 250.0ms", "GET /v1/sessions/{sid} 404 2.0ms",
                       "GET /v1/sessions/{sid}/events 200 2.0ms", "PUT /v1/sessions/{sid}/audio/{seq} 202 8.0ms",
                       "GET /v1/sessions/{sid} 200 3.1ms"]
    assert len(logger.filters) == 1
