"""`serve run serve_config.yaml` as ops run it, in its own process group (the e2e tier and the UI bench)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import yaml

from bench.harness.serve import _free_port, haproxy_ports, reap_orphaned_haproxy_here

__all__ = ["ROOT", "TOKEN", "ServeRun"]

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "e2e-clinician-token-123456"


class ServeRun:
    """`serve run` of the shipped config on a free port, with its own home, data dir and tokens."""

    def __init__(self, tmp: Path, extra_tokens: dict[str, str] | None = None, args: dict | None = None,
                 tls: tuple[Path, Path] | None = None):
        """``args`` are merged into the application's args (section by section); ``tls`` is a
        (certificate, key) pair the proxy serves HTTPS with (``http_options.ssl_certfile/ssl_keyfile``)."""
        self.port = _free_port()
        config = yaml.safe_load((ROOT / "serve_config.yaml").read_text())
        config["http_options"]["port"] = self.port
        for key, value in (args or {}).items():
            config["applications"][0]["args"].setdefault(key, {}).update(value)
        self.verify: str | bool = True
        if tls is not None:
            config["http_options"].update(ssl_certfile=str(tls[0]), ssl_keyfile=str(tls[1]))
            self.verify = str(tls[0])
        self.config_path = tmp / "serve_config.yaml"
        self.config_path.write_text(yaml.safe_dump(config))
        tokens = ",".join(f"{c}:{t}" for c, t in {"e2e": TOKEN, **(extra_tokens or {})}.items())
        self.env = {**os.environ, "SCRIBE_HOME": str(tmp / "home"), "SCRIBE_DATA_DIR": str(tmp / "data"),
                    "SCRIBE_API_TOKENS": tokens, "RAY_ADDRESS": "local", "HF_HUB_OFFLINE": "1",
                    "RAY_USAGE_STATS_ENABLED": "0", **haproxy_ports()}
        if tls is not None:  # HAProxy mode serves plain HTTP; TLS is Serve's proxy's (serve_app/front.py)
            self.env["RAY_SERVE_ENABLE_HA_PROXY"] = "0"
        self.log = open(tmp / "serve.log", "ab")
        self.proc = None
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self.token = TOKEN

    def start(self, timeout: float = 300) -> float:
        began = time.monotonic()
        reap_orphaned_haproxy_here()  # a killed run's HAProxy still holds the port (as scripts/run.sh does)
        serve_bin = str(Path(sys.executable).with_name("serve"))
        self.proc = subprocess.Popen([serve_bin, "run", str(self.config_path)], cwd=ROOT, env=self.env,
                                     stdout=self.log, stderr=self.log, start_new_session=True)
        while time.monotonic() - began < timeout:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=3, verify=self.verify).status_code == 200:
                    return time.monotonic() - began
            except httpx.HTTPError:
                pass
            assert self.proc.poll() is None, "serve run exited"
            time.sleep(0.5)
        raise AssertionError("serve run did not become healthy")

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        subprocess.run([str(Path(sys.executable).with_name("ray")), "stop", "--force"],
                       env=self.env, capture_output=True, timeout=120)
