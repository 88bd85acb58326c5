"""Acoustic features of each recognised word, for telling speakers apart.

Per word (its ``start``/``end`` in seconds): the median log pitch over its
voiced frames (YIN), the share of voiced frames, and the mean of MFCC 1-13
(timbre), computed with librosa on 10 ms frames.  Per word of multichannel
audio: each channel's share of the word's energy (one speaker per channel
makes the dominant channel the speaker).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = ["word_voice_features", "word_channel_shares", "VOICE_DIMS", "warm_up"]

_HOP = 160  # 10 ms at 16 kHz
_FMIN, _FMAX = 60.0, 400.0
VOICE_DIMS = 15


def _frames(t: float, rate: int) -> int:
    return max(0, int(round(t * rate / _HOP)))


def word_voice_features(mono: np.ndarray, rate: int, spans: Sequence[tuple[float, float]]) -> list[list[float]]:
    """``[log F0, voiced share, MFCC1..13]`` for each ``(start, end)`` span (seconds from sample 0).

    A span with no audio gets a vector of NaN (the clustering ignores it).
    """
    import librosa

    if mono.size < 2048 or not spans:
        return [[float("nan")] * VOICE_DIMS for _ in spans]
    y = np.ascontiguousarray(mono, dtype=np.float32)
    f0 = librosa.yin(y, fmin=_FMIN, fmax=_FMAX, sr=rate, frame_length=1024, hop_length=_HOP)
    mfcc = librosa.feature.mfcc(y=y, sr=rate, n_mfcc=14, n_fft=512, hop_length=_HOP)
    rms = librosa.feature.rms(y=y, frame_length=512, hop_length=_HOP)[0]
    n = min(len(f0), mfcc.shape[1], len(rms))
    out = []
    for start, end in spans:
        a = min(_frames(start, rate), n - 1)
        b = min(max(a + 1, _frames(end, rate)), n)
        energy = rms[a:b]
        if energy.size == 0 or energy.max() <= 1e-5:
            out.append([float("nan")] * VOICE_DIMS)
            continue
        voiced = (energy > 0.1 * energy.max()) & (f0[a:b] < _FMAX * 0.95)
        pitch = np.log(np.median(f0[a:b][voiced])) if voiced.any() else np.log(np.median(f0[a:b]))
        vec = [float(pitch), float(voiced.mean())] + [float(v) for v in mfcc[1:, a:b].mean(axis=1)]
        out.append([round(v, 3) for v in vec])
    return out


def word_channel_shares(samples: np.ndarray, rate: int, spans: Sequence[tuple[float, float]]) -> list[list[float]]:
    """Each channel's share of the energy in each span; ``samples`` is ``(channels, n)``."""
    out = []
    for start, end in spans:
        a = max(0, int(start * rate))
        b = max(a + 1, int(end * rate))
        energy = np.square(samples[:, a:b], dtype=np.float64).sum(axis=1)
        total = float(energy.sum())
        out.append([round(float(e / total), 4) for e in energy] if total > 0 else [1.0 / len(energy)] * len(energy))
    return out


def warm_up() -> None:
    """Compile librosa's numba kernels once (seconds on the first call of a process)."""
    t = np.arange(16000, dtype=np.float32) / 16000
    word_voice_features((0.1 * np.sin(2 * np.pi * 150 * t)).astype(np.float32), 16000, [(0.1, 0.5)])
