"""Doctor or patient for every segment, from text, conversation structure and voice.

:meth:`RoleEngine.label` takes a session's committed segments (``context``) and
its new, masked, not yet committed segments, and returns the new segments with
roles (split where the speaker changes) plus revised roles for earlier
segments that the new evidence changes.  Sources of a role, strongest first:

``clinician`` / ``client``
    a correction (PATCH) or a role given with ``POST .../segments``: kept as is.
``channel``
    audio with one speaker per channel and a session ``channels`` map: each
    word goes to its loudest channel, a segment is split where that changes.
``model``
    inferred: the text model (:mod:`.role_text`: the segment and its
    neighbours, who speaks first) on the whole session, combined with the
    session's voices when mono audio holds two distinguishable ones
    (:mod:`.speaker_turns`).  Each voice's role is decided by the evidence of
    all its segments together (and of any known roles), so a short "yes" gets
    the role of the voice that said it; a segment in which the voice changes
    is split at the change first.

Each call re-reads the last ``revise_window`` committed segments (earlier ones
count with their stored role), so its cost stays bounded in long sessions.
Every role has a ``role_confidence`` (probability of the chosen role) and
``role_uncertain`` marks those below the configured threshold.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from serve_app.engines.roles.speaker_turns import fit_voices, split_runs
from serve_app.engines.roles.text_model import RoleTextModel
from serve_app.engines.roles.voice_features import word_channel_shares, word_voice_features

__all__ = ["RoleEngine", "RoleSettings", "FIXED_SOURCES"]

FIXED_SOURCES = ("clinician", "client", "channel")
_TEXT_CLIP = 4.0
_VOICE_CLIP = 6.0
_FIXED_EVIDENCE = 8.0


@dataclass(frozen=True)
class RoleSettings:
    low_confidence: float = 0.7
    min_turn_words: int = 3
    min_turn_s: float = 0.6
    switch_prob: float = 0.05
    voice_min_words: int = 20
    voice_min_gain: float = 0.5
    revise_delta: float = 0.1
    revise_window: int = 60
    voice_max_words: int = 2000


def _logit(p):
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _sub_segment(seg: dict[str, Any], a: int, b: int) -> dict[str, Any]:
    """Words ``[a, b)`` of ``seg`` as a segment of their own."""
    words = seg["words"][a:b]
    out = {**seg, "words": words, "text": " ".join(w["text"] for w in words if w["text"]).strip(),
           "start": words[0]["start"], "end": words[-1]["end"]}
    for key in ("_voice", "_channels"):
        if seg.get(key) is not None:
            out[key] = seg[key][a:b]
    return out


class RoleEngine:
    """Stateless role labelling for one session at a time (see module doc)."""

    def __init__(self, text_model: RoleTextModel, settings: RoleSettings = RoleSettings()):
        self._text = text_model
        self.settings = settings

    # -- audio ------------------------------------------------------------
    @staticmethod
    def attach_audio(segments: list[dict[str, Any]], samples: np.ndarray | None, rate: int,
                     offset_s: float) -> None:
        """Add per-word ``_voice`` (and ``_channels`` for multichannel audio) to ``segments``
        in place; ``samples`` is ``(channels, n)`` starting at session time ``offset_s``."""
        if samples is None or samples.size == 0:
            return
        spans = [(w["start"] - offset_s, w["end"] - offset_s) for s in segments for w in s.get("words") or []]
        if not spans:
            return
        mono = samples[0] if samples.shape[0] == 1 else np.clip(samples.sum(axis=0), -1, 1)
        voice = word_voice_features(mono, rate, spans)
        shares = word_channel_shares(samples, rate, spans) if samples.shape[0] > 1 else None
        k = 0
        for seg in segments:
            n = len(seg.get("words") or [])
            if n:
                seg["_voice"] = voice[k:k + n]
                if shares is not None:
                    seg["_channels"] = shares[k:k + n]
            k += n

    # -- labelling ----------------------------------------------------------
    def label(self, context: Sequence[dict[str, Any]], new: Sequence[dict[str, Any]],
              channels: dict[str, str] | None = None) -> dict[str, Any]:
        """Returns ``{"segments": new segments with roles (possibly split),
        "revisions": {segment id: {"role", "role_confidence", "role_uncertain"}}}``."""
        cfg = self.settings
        pending: list[dict[str, Any]] = []
        for seg in new:
            seg = dict(seg)
            if seg.get("role") in ("doctor", "patient"):
                seg.setdefault("role_source", "client")
                pending.append(self._fixed(seg, seg["role"], 1.0, seg["role_source"]))
            elif channels and seg.get("_channels"):
                pending.extend(self._by_channel(seg, channels))
            else:
                pending.append(seg)
        everything = list(context) + pending
        voices = self._fit_voices(everything)
        if voices is not None:  # splitting keeps the words in order, so the posteriors still line up
            pending = self._split_by_voice(pending, voices, context)
            everything = list(context) + pending
        window = max(0, len(context) - cfg.revise_window)
        probs = self._probabilities(everything, voices, window)
        labelled = []
        for seg, p in zip(pending, probs[len(context):]):
            if seg.get("role_source") not in FIXED_SOURCES:
                seg = {**seg, **self._decision(p), "role_source": "model"}
            labelled.append(seg)
        revisions = {}
        for seg, p in list(zip(context, probs[:len(context)]))[window:]:
            if seg.get("role_source") in FIXED_SOURCES:
                continue
            decision = self._decision(p)
            old = seg.get("role_confidence")
            if seg.get("role") != decision["role"] or old is None \
                    or abs(old - decision["role_confidence"]) >= cfg.revise_delta:
                revisions[seg["id"]] = {**decision, "role_source": "model"}
        return {"segments": labelled, "revisions": revisions}

    def _decision(self, p_doctor: float) -> dict[str, Any]:
        role = "doctor" if p_doctor >= 0.5 else "patient"
        conf = round(float(max(p_doctor, 1 - p_doctor)), 3)
        return {"role": role, "role_confidence": conf, "role_uncertain": conf < self.settings.low_confidence}

    @staticmethod
    def _fixed(seg: dict[str, Any], role: str, conf: float, source: str) -> dict[str, Any]:
        return {**seg, "role": role, "role_confidence": round(conf, 3), "role_uncertain": False,
                "role_source": source}

    def _by_channel(self, seg: dict[str, Any], channels: dict[str, str]) -> list[dict[str, Any]]:
        """Split at changes of the loudest channel; words of an unmapped channel stay inferred."""
        shares = np.asarray(seg["_channels"])
        loudest = shares.argmax(axis=1)
        out = []
        start = 0
        for i in range(1, len(loudest) + 1):
            if i == len(loudest) or loudest[i] != loudest[start]:
                part = _sub_segment(seg, start, i)
                role = channels.get(str(int(loudest[start])))
                if role in ("doctor", "patient"):
                    part = self._fixed(part, role, float(shares[start:i, loudest[start]].mean()), "channel")
                out.append(part)
                start = i
        return out

    def _fit_voices(self, segments: Sequence[dict[str, Any]]):
        feats = [v for s in segments for v in (s.get("_voice") or [])]
        cfg = self.settings
        return fit_voices(feats, cfg.voice_min_words, cfg.voice_min_gain, max_words=cfg.voice_max_words) \
            if feats else None

    def _split_by_voice(self, pending, voices, context) -> list[dict[str, Any]]:
        """Split inferred segments of ``pending`` where the voice changes."""
        cfg = self.settings
        k = sum(len(s.get("_voice") or []) for s in context)
        out = []
        for seg in pending:
            n = len(seg.get("_voice") or [])
            if n and seg.get("role_source") not in FIXED_SOURCES:
                times = [(w["start"], w["end"]) for w in seg["words"]]
                runs = split_runs(voices.posteriors[k:k + n], times, cfg.switch_prob, cfg.min_turn_words,
                                  cfg.min_turn_s)
                out.extend([_sub_segment(seg, a, b) for a, b in runs] if len(runs) > 1 else [seg])
            else:
                out.append(seg)
            k += n
        return out

    def _text_logits(self, segments: Sequence[dict[str, Any]], window: int) -> np.ndarray:
        """Text log-odds of doctor: predicted from ``window`` on (with one segment of left
        context), taken from the stored role and confidence before it."""
        out = np.zeros(len(segments))
        for i, seg in enumerate(segments[:window]):
            if seg.get("role") in ("doctor", "patient") and seg.get("role_confidence") is not None:
                conf = seg["role_confidence"]
                out[i] = _logit(conf if seg["role"] == "doctor" else 1 - conf)
        lo = max(0, window - 1)
        out[window:] = _logit(self._text.predict([s["text"] for s in segments[lo:]]))[window - lo:]
        return np.clip(out, -_TEXT_CLIP, _TEXT_CLIP)

    def _probabilities(self, segments: Sequence[dict[str, Any]], voices, window: int = 0) -> np.ndarray:
        """P(doctor) of every segment of the session (text re-read from ``window`` on)."""
        text = self._text_logits(segments, window)
        evidence = text.copy()
        for i, seg in enumerate(segments):
            if seg.get("role_source") in FIXED_SOURCES:
                evidence[i] = _FIXED_EVIDENCE if seg["role"] == "doctor" else -_FIXED_EVIDENCE
        if voices is None:
            return _sigmoid(evidence)
        voice0 = np.full(len(segments), 0.5)
        k = 0
        for i, seg in enumerate(segments):
            n = len(seg.get("_voice") or [])
            vals = voices.posteriors[k:k + n]
            vals = vals[~np.isnan(vals)]
            if vals.size:
                voice0[i] = float(vals.mean())
            k += n
        # Which voice is the doctor's: the evidence of all segments, each counted for its voice.
        q = _sigmoid(np.clip(((2 * voice0 - 1) * evidence).sum(), -50, 50))
        by_voice = voice0 * q + (1 - voice0) * (1 - q)
        return _sigmoid(np.clip(_logit(by_voice), -_VOICE_CLIP, _VOICE_CLIP) + text)
