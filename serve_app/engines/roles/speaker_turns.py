"""Two voices in one session: cluster words by voice, find where the speaker changes.

:func:`fit_voices` standardises the session's per-word voice features
(:mod:`.voice_features`) and fits scikit-learn Gaussian mixtures with one and
two components; the session has two distinguishable voices only if two
components explain the words clearly better (BIC gain per word) and neither is
tiny.  :func:`split_runs` then labels a segment's words with a two-state
Viterbi pass (switching costs ``log switch_prob``) and merges runs shorter than
``min_words`` words or ``min_s`` seconds into their neighbour, so a cough or a
mis-pitched word does not cut a segment.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

__all__ = ["VoiceModel", "fit_voices", "split_runs"]


@dataclass
class VoiceModel:
    """Per-word posterior of voice 0 for every word given to :func:`fit_voices`."""

    posteriors: np.ndarray  # shape (n_words,), NaN where the word had no features
    bic_gain_per_word: float


def fit_voices(features: Sequence[Sequence[float]], min_words: int = 20, min_gain: float = 0.5,
               min_weight: float = 0.1, max_words: int = 2000, seed: int = 0) -> VoiceModel | None:
    """Fit the session's voices; ``None`` if it does not clearly hold two.

    At most ``max_words`` words, evenly spread over the session, are used to
    fit (the cost stays bounded in long sessions); every word gets a posterior.
    """
    from sklearn.mixture import GaussianMixture

    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2 or len(x) == 0:
        return None
    ok = ~np.isnan(x).any(axis=1)
    if ok.sum() < min_words:
        return None
    z = x[ok]
    z = (z - z.mean(axis=0)) / (z.std(axis=0) + 1e-6)
    fit = z[np.linspace(0, len(z) - 1, max_words).astype(int)] if len(z) > max_words else z
    one = GaussianMixture(1, covariance_type="diag", random_state=seed).fit(fit)
    two = GaussianMixture(2, covariance_type="diag", random_state=seed, n_init=2).fit(fit)
    gain = (one.bic(fit) - two.bic(fit)) / len(fit)
    if gain < min_gain or two.weights_.min() < min_weight:
        return None
    post = np.full(len(x), np.nan)
    post[ok] = two.predict_proba(z)[:, 0]
    return VoiceModel(post, float(gain))


def _viterbi(p0: np.ndarray, switch_prob: float) -> np.ndarray:
    """Most likely voice (0/1) per word given P(voice 0) per word."""
    p = np.clip(np.nan_to_num(p0, nan=0.5), 1e-4, 1 - 1e-4)
    emit = np.log(np.stack([p, 1 - p], axis=1))
    stay, move = np.log(1 - switch_prob), np.log(switch_prob)
    score = emit[0].copy()
    back = np.zeros((len(p), 2), dtype=int)
    for i in range(1, len(p)):
        new = np.empty(2)
        for s in (0, 1):
            cand = (score[s] + stay, score[1 - s] + move)
            back[i, s] = s if cand[0] >= cand[1] else 1 - s
            new[s] = max(cand) + emit[i, s]
        score = new
    path = np.zeros(len(p), dtype=int)
    path[-1] = int(np.argmax(score))
    for i in range(len(p) - 1, 0, -1):
        path[i - 1] = back[i, path[i]]
    return path


def split_runs(p0: np.ndarray, times: Sequence[tuple[float, float]], switch_prob: float = 0.05,
               min_words: int = 3, min_s: float = 0.6) -> list[tuple[int, int]]:
    """Word index ranges ``[a, b)`` of one segment that one voice speaks.

    ``p0`` is P(voice 0) per word, ``times`` each word's ``(start, end)``.
    """
    n = len(p0)
    if n == 0:
        return []
    path = _viterbi(np.asarray(p0, dtype=np.float64), switch_prob)
    runs = []
    start = 0
    for i in range(1, n + 1):
        if i == n or path[i] != path[start]:
            runs.append([start, i])
            start = i

    def short(run):
        return run[1] - run[0] < min_words or times[run[1] - 1][1] - times[run[0]][0] < min_s

    merged = True
    while merged and len(runs) > 1:
        merged = False
        for k, run in enumerate(runs):
            if short(run):
                if k == 0:
                    runs[1][0] = run[0]
                else:
                    runs[k - 1][1] = run[1]
                del runs[k]
                merged = True
                break
    return [(a, b) for a, b in runs]
