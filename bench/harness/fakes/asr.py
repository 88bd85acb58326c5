"""A deterministic ASR engine: it "hears" what the test encoded in the audio.

Test audio carries, in every second, one sample value ``index * 100 / 32768`` at its
middle; the fake hears one word per whole second, ``w<index>``, from 0.2 s to 0.8 s
of that second.  A lost or duplicated word at a chunk boundary therefore shows up as
a wrong word sequence.  :func:`encoded_wav` makes such audio.
"""
from __future__ import annotations

import io
import wave

import numpy as np

from serve_app.engines.asr.protocol import AsrSegment, Word

__all__ = ["FakeAsr", "encoded_samples", "encoded_wav"]

RATE = 16000


class FakeAsr:
    """Implements :class:`~serve_app.engines.asr.protocol.AsrBackend`; counts its calls."""

    def __init__(self):
        self.calls = 0

    def transcribe(self, samples: np.ndarray) -> list[AsrSegment]:
        self.calls += 1
        words = []
        for k in range(len(samples) // RATE):
            idx = round(float(samples[k * RATE + RATE // 2]) * 32768 / 100)
            if idx > 0:
                words.append(Word(f" w{idx}", k + 0.2, k + 0.8))
        return [AsrSegment(w.start, w.end, w.text.strip(), (w,)) for w in words]

    def transcribe_batch(self, batch) -> list[list[AsrSegment]]:
        return [self.transcribe(b) for b in batch]


def encoded_samples(first: int, seconds: int) -> np.ndarray:
    """``seconds`` of int16 audio whose second ``k`` says ``w<first + k>``."""
    out = np.zeros(seconds * RATE, dtype=np.int16)
    for k in range(seconds):
        out[k * RATE:(k + 1) * RATE] = (first + k) * 100
    return out


def encoded_wav(first: int, seconds: int) -> bytes:
    """A self-contained 16 kHz mono WAV chunk of :func:`encoded_samples`."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(encoded_samples(first, seconds).tobytes())
    return buf.getvalue()


class SlowFakeAsr(FakeAsr):
    """:class:`FakeAsr` whose every decode takes ``decode_s`` of wall time (a sleep: it costs no CPU),
    so a test or bench can load the ASR deployment as a real model would without the machine's CPU
    being what limits it (the autoscaling bench)."""

    def __init__(self, decode_s: float = 1.0):
        super().__init__()
        self.decode_s = decode_s

    def transcribe(self, samples: np.ndarray) -> list[AsrSegment]:
        import time

        time.sleep(self.decode_s)
        return super().transcribe(samples)
