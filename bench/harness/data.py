"""Where the shared data lives (the one definition), and small helpers over it.

``SCRIBE_SHARED_DIR`` (read through :class:`serve_app.settings.Settings`) or
``../shared`` beside the checkout; ``SHARED_DATA`` is its ``data/`` folder with
``dev/`` (evaluation) and ``train/`` (fitting); results of the offline tools go to
``bench/results``.
"""
from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np
import soundfile as sf

from serve_app.settings import Settings

__all__ = ["SHARED", "SHARED_DATA", "DEV", "TRAIN", "RESULTS", "tone", "librispeech_clips", "wav_chunks",
           "normalise", "phi_records", "jsonl"]

SHARED = Settings().resolved_shared_dir()
SHARED_DATA = SHARED / "data"
DEV = SHARED_DATA / "dev"
TRAIN = SHARED_DATA / "train"
RESULTS = Path(__file__).resolve().parents[1] / "results"


def save_result(name: str, label: str, report: dict) -> Path:
    """Write ``report`` to ``bench/results/<name>[_<label>].json``; returns the path."""
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / (f"{name}_{label}.json" if label else f"{name}.json")
    out.write_text(json.dumps(report, indent=1))
    return out


def librispeech_clips() -> list[dict]:
    """The single-speaker LibriSpeech dev clips with their reference text."""
    rows = [json.loads(line) for line in (DEV / "audio" / "manifest.jsonl").read_text().splitlines() if line.strip()]
    return [r for r in rows if r["id"].startswith("librispeech_")]


def wav_chunks(path: Path, seconds: float = 2.0, limit_s: float | None = None) -> list[bytes]:
    """Cut a WAV or FLAC (any channel count) into self-contained WAV chunks of ``seconds``
    each, keeping the first ``limit_s`` seconds if given."""
    audio, rate = sf.read(path, dtype="int16")
    if limit_s is not None:
        audio = audio[: int(limit_s * rate)]
    step = int(rate * seconds)
    out = []
    for start in range(0, len(audio), step):
        buf = io.BytesIO()
        sf.write(buf, audio[start:start + step], rate, format="WAV", subtype="PCM_16")
        out.append(buf.getvalue())
    return out


def normalise(text: str) -> str:
    """Lower-case, hyphens to spaces, punctuation dropped (Whisper vs LibriSpeech style)."""
    text = text.lower().replace("-", " ")
    text = re.sub(r"[^a-z0-9' ]+", " ", text)
    return " ".join(text.split())


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


def phi_records() -> list[dict]:
    return jsonl(DEV / "phi_presidio.jsonl")


def tone(seconds: float, rate: int = 16000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
