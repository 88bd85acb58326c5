"""Ops' command for real: `serve run serve_config.yaml`, killed with SIGKILL mid-session.

After a restart every acknowledged chunk is in the transcript exactly once, and
the transcript equals the one from an uninterrupted run.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml

from bench.harness.client import ScribeClient
from bench.harness.data import DEV, librispeech_clips, normalise, wav_chunks
from bench.harness.serve import _free_port

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "e2e-clinician-token-123456"


class ServeRun:
    def __init__(self, tmp: Path):
        self.port = _free_port()
        config = yaml.safe_load((ROOT / "serve_config.yaml").read_text())
        config["http_options"]["port"] = self.port
        self.config_path = tmp / "serve_config.yaml"
        self.config_path.write_text(yaml.safe_dump(config))
        self.env = {**os.environ, "SCRIBE_HOME": str(tmp / "home"), "SCRIBE_DATA_DIR": str(tmp / "data"),
                    "SCRIBE_API_TOKENS": f"e2e:{TOKEN}", "RAY_ADDRESS": "local", "HF_HUB_OFFLINE": "1",
                    "RAY_USAGE_STATS_ENABLED": "0"}
        self.log = open(tmp / "serve.log", "ab")
        self.proc = None
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 300) -> float:
        began = time.monotonic()
        serve_bin = str(Path(sys.executable).with_name("serve"))
        self.proc = subprocess.Popen([serve_bin, "run", str(self.config_path)], cwd=ROOT, env=self.env,
                                     stdout=self.log, stderr=self.log, start_new_session=True)
        while time.monotonic() - began < timeout:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=3).status_code == 200:
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


@pytest.fixture()
def serve_run(tmp_path):
    run = ServeRun(tmp_path)
    yield run
    if run.proc and run.proc.poll() is None:
        run.kill()


def test_sigkill_mid_session_loses_and_duplicates_nothing(serve_run):
    clip = librispeech_clips()[0]
    chunks = wav_chunks(DEV / clip["wav"], 2.0)
    cold = serve_run.start()
    print(f"\ncold start to healthy /healthz: {cold:.1f}s")
    client = ScribeClient(serve_run.url, TOKEN)

    baseline = client.create_session()
    for seq, chunk in enumerate(chunks):
        assert client.put_chunk(baseline, seq, chunk).status_code == 202
    client.finish(baseline)
    expected = normalise(client.transcript(client.wait_finished(baseline)))

    sid = client.create_session()
    for seq in range(3):
        assert client.put_chunk(sid, seq, chunks[seq]).status_code == 202
    serve_run.kill()
    serve_run.start()
    client = ScribeClient(serve_run.url, TOKEN)
    assert client.state(sid)["chunks"]["received"] == 3
    for seq in range(3, len(chunks)):
        assert client.put_chunk(sid, seq, chunks[seq]).status_code == 202
    client.finish(sid)
    state = client.wait_finished(sid)
    assert state["chunks"]["processed"] == len(chunks)
    assert normalise(client.transcript(state)) == expected
