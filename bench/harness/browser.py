"""Headless Chromium (Debian's package) driven by Playwright, with a fake microphone.

Shared by the browser tests and the UI benchmark.  Chromium plays ``mic_wav`` in a loop as
the microphone (``--use-file-for-fake-audio-capture``); :func:`fake_mic_wav` makes that
file from a data/dev consultation recording.
"""
from __future__ import annotations

import contextlib
import shutil
from pathlib import Path
from typing import Iterator

import numpy as np
import soundfile as sf

from bench.harness.data import DEV

__all__ = ["CHROMIUM", "chromium_args", "fake_mic_wav", "browser", "sign_in", "CONSULTATION"]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CONSULTATION = DEV / "consultation_audio" / "day1_consultation01.synth.flac"
_BASE_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--disable-quic"]


def chromium_args(mic_wav: Path | None = None) -> list[str]:
    args = list(_BASE_ARGS)
    if mic_wav is not None:
        args += ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                 f"--use-file-for-fake-audio-capture={mic_wav}"]
    return args


def fake_mic_wav(out: Path, source: Path = CONSULTATION, seconds: float = 120.0, pad_s: float = 2.0) -> Path:
    """The first ``seconds`` of ``source`` as 16-bit PCM WAV (what Chromium's fake capture reads),
    followed by ``pad_s`` of silence so a loop restart is not glued to the last word."""
    audio, rate = sf.read(source, dtype="float32", always_2d=True)
    audio = audio.mean(axis=1)[: int(seconds * rate)]
    sf.write(out, np.concatenate([audio, np.zeros(int(pad_s * rate), dtype=np.float32)]), rate,
             subtype="PCM_16")
    return out


@contextlib.contextmanager
def browser(mic_wav: Path | None = None) -> Iterator:
    """A Playwright ``Browser`` on Debian's Chromium (Playwright gives it a fresh profile; closed on exit)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=chromium_args(mic_wav))
        try:
            yield instance
        finally:
            instance.close()


def sign_in(page, base_url: str, token: str) -> None:
    """Open ``/ui/`` and sign in with ``token`` (waits for the signed-in page)."""
    page.goto(f"{base_url}/ui/")
    page.get_by_label("Access token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="New session").wait_for(timeout=30_000)
