"""Starting the real Serve app in-process (integration tests and the bench share it)."""
from __future__ import annotations

import asyncio
import os
import socket
import tempfile
import threading
import time
from pathlib import Path

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[2]
_REDIS: list = []  # redis-servers started by start_serve_app (stopped by stop_serve_app)
TOKENS = {"alice": "alice-token-0123456789", "bob": "bob-token-0123456789"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def haproxy_ports() -> dict[str, str]:
    """Free ports for HAProxy's stats page and metrics exporter (Serve's defaults, 8404 and 9101, are
    fixed: two apps on one machine, a test's and another's, would collide and one HAProxy exit)."""
    return {"RAY_SERVE_HAPROXY_STATS_PORT": str(_free_port()), "RAY_SERVE_HAPROXY_METRICS_PORT": str(_free_port())}


def reap_orphaned_haproxy_here() -> list[int]:
    """``scribe reap-haproxy`` for this environment's HAProxy directory (nothing without HAProxy mode)."""
    from serve_app.front import prune_stale_haproxy_dirs, reap_orphaned_haproxy

    config = os.environ.get("RAY_SERVE_HAPROXY_CONFIG_FILE_LOC")
    if not config:
        return []
    reaped = reap_orphaned_haproxy(os.path.dirname(config))
    prune_stale_haproxy_dirs(os.path.dirname(config))
    return reaped


class ServeApp:
    """Handle on the running app: its URL and a way to restart it."""

    def __init__(self, port: int, args: dict, data_dir: Path, engines=None, redis=None, metrics_port: int = 0):
        self.port, self.args, self.data_dir, self.engines = port, args, data_dir, engines
        self.redis = redis  # a bench.harness.redis_server.RedisServer when the store is on Redis
        self.url = f"http://127.0.0.1:{port}"
        self.metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"  # Ray's Prometheus endpoint

    def raw_names(self, sid: str) -> bytes | None:
        """The session's names map as stored at rest (sealed), from whichever backend holds it."""
        if self.redis is not None:
            import redis

            return redis.Redis.from_url(self.redis.url).get(f"scribe:names:{sid}")
        path = self.data_dir / "sessions" / sid / "names.json"
        return path.read_bytes() if path.exists() else None

    def stored_anywhere(self, sid: str) -> bool:
        """True if any trace of session ``sid`` is at rest (events, names, audio blobs)."""
        if self.redis is not None:
            import redis

            keys = [f"scribe:{kind}:{sid}" for kind in ("ev", "last", "names")]
            return bool(redis.Redis.from_url(self.redis.url).exists(*keys)) or (self.data_dir / "blobs" / sid).exists()
        return (self.data_dir / "sessions" / sid).exists()

    def deploy(self) -> None:
        from ray import serve

        from serve_app.app import build_app, build_graph
        from serve_app.config import AppArgs

        app = build_app(self.args) if self.engines is None else build_graph(AppArgs.model_validate(self.args),
                                                                             self.engines)
        serve.run(app, name="scribe", route_prefix="/", blocking=False, logging_config=shipped_logging_config())
        self.wait_healthy()

    def wait_healthy(self, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise RuntimeError("app did not become healthy")

    def kill_everything(self) -> None:
        """Kill the app and the session-store actor (as a crash would), then redeploy."""
        import ray
        from ray import serve

        serve.delete("scribe")
        store = ray.get_actor("scribe_session_store", namespace="scribe")
        ray.kill(store, no_restart=True)
        self.deploy()



def shipped_logging_config() -> dict | None:
    """The application's ``logging_config`` in serve_config.yaml (JSON logs), as ``serve run`` applies it."""
    return yaml.safe_load((ROOT / "serve_config.yaml").read_text())["applications"][0].get("logging_config")


def prepare_app(overrides: dict | None = None, redis: bool = False) -> tuple[Path, dict, object]:
    """A private temp dir, the environment the app reads (tokens, data dir, ``REDIS_URL`` when ``redis``:
    a real ``redis-server`` started here) and serve_config.yaml's args plus ``overrides``.

    Returns ``(tmp, args, redis_server or None)``.  Set before Ray starts: its workers inherit it."""
    tmp = Path(tempfile.mkdtemp(prefix="scribe-it-"))
    os.environ["SCRIBE_API_TOKENS"] = ",".join(f"{c}:{t}" for c, t in TOKENS.items())
    os.environ["SCRIBE_DATA_DIR"] = str(tmp / "data")
    os.environ["SCRIBE_HOME"] = str(tmp / "home")
    os.environ["SCRIBE_SSE_PING_S"] = "1"
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("RAY_SERVE_QUEUE_LENGTH_RESPONSE_DEADLINE_S", "1.0")
    os.environ.update(haproxy_ports())
    reap_orphaned_haproxy_here()
    server = None
    if redis:
        from bench.harness.redis_server import RedisServer

        server = RedisServer(tmp / "redis").start()
        _REDIS.append(server)
        os.environ["REDIS_URL"] = server.url  # read by the store actor (Ray workers inherit it)
    else:
        os.environ.pop("REDIS_URL", None)
    args = yaml.safe_load((ROOT / "serve_config.yaml").read_text())["applications"][0]["args"]
    # One shared app serves a whole test tier as two clinicians: lift the unfinished-session quota
    # (tests/unit/test_quotas.py tests it) so hundreds of test sessions do not hit it.
    args.setdefault("limits", {})["max_open_sessions_per_clinician"] = 100_000
    for key, value in (overrides or {}).items():
        args.setdefault(key, {}).update(value)
    return tmp, args, server


def start_serve_app(overrides: dict | None = None, engines=None, redis: bool = False) -> ServeApp:
    """Local Ray in a private temp dir, Serve on a free loopback port, the app from
    serve_config.yaml's args (plus ``overrides``), two clinicians' tokens.

    With ``redis`` the session store is on a real ``redis-server`` started here (``REDIS_URL``),
    blobs under the data dir; ``app.redis`` is that server (kill and restart it in kill tests).

    ``engines`` (:class:`serve_app.app.EngineFactories`) replaces real engines with fakes;
    the checkout is put on the replicas' ``PYTHONPATH`` so they can import them."""
    import ray
    from ray import serve

    tmp, args, server = prepare_app(overrides, redis)
    metrics_port = _free_port()
    ray.init(address="local", _temp_dir=tempfile.mkdtemp(prefix="ray", dir="/tmp"),
             num_cpus=2, include_dashboard=False, namespace="serve", _metrics_export_port=metrics_port,
             runtime_env={"env_vars": {"PYTHONPATH": str(ROOT)}})
    port = _free_port()  # after Ray's own listeners (its dashboard agent takes 52365, inside the ephemeral range)
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    app = ServeApp(port, args, tmp / "data", engines, server, metrics_port)
    app.deploy()
    return app


_DRIVER_LOOP: list[asyncio.AbstractEventLoop] = []


def _driver_loop() -> asyncio.AbstractEventLoop:
    if not _DRIVER_LOOP:
        loop = asyncio.new_event_loop()
        threading.Thread(target=loop.run_forever, name="serve-driver-calls", daemon=True).start()
        _DRIVER_LOOP.append(loop)
    return _DRIVER_LOOP[0]


def call_deployment(deployment: str, method: str, *args, timeout_s: float = 120.0, app: str = "scribe"):
    """``deployment.method(*args)`` from synchronous driver code (tests, benches).

    In Serve's throughput-optimized mode (``scripts/env.sh``) a handle routes on the event loop it is
    first used on, which must keep running: every call here runs on one loop in a daemon thread that
    lives as long as the process, with a handle of its own (not Serve's cache, which
    ``serve.shutdown`` would try to close from the main thread)."""
    from ray.serve.handle import DeploymentHandle

    async def call():
        return await getattr(DeploymentHandle(deployment, app), method).remote(*args)

    return asyncio.run_coroutine_threadsafe(call(), _driver_loop()).result(timeout_s)


def stop_serve_app() -> None:
    import ray
    from ray import serve

    serve.shutdown()
    ray.shutdown()
    while _REDIS:  # the redis-server this module started, if any
        _REDIS.pop().stop()
        os.environ.pop("REDIS_URL", None)
