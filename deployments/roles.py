"""Roles deployment: doctor or patient for every segment (text, turn-taking, voice, channels)."""
from __future__ import annotations

import asyncio
from typing import Any, Callable

import numpy as np
from ray import serve

from serve_app.config import RolesConfig
from serve_app.contracts import RoleLabels
from serve_app.engines.audio import TARGET_RATE
from serve_app.engines.roles.engine import RoleEngine, RoleSettings
from serve_app.engines.roles.protocol import RoleLabeller
from serve_app.engines.roles.text_model import DEFAULT_MODEL_PATH, RoleTextModel
from serve_app.metrics import timed

__all__ = ["Roles", "build_role_engine"]


def build_role_engine(cfg: RolesConfig) -> RoleEngine:
    """The engine for ``cfg``: the shipped text model unless ``cfg.model`` names another file."""
    from serve_app.engines.roles.voice_features import warm_up

    path = DEFAULT_MODEL_PATH if cfg.model == "packaged" else cfg.model
    settings = RoleSettings(cfg.low_confidence, cfg.min_turn_words, cfg.min_turn_s, cfg.switch_prob,
                            cfg.voice_min_words, cfg.voice_min_gain)
    engine = RoleEngine(RoleTextModel.load(path), settings)
    warm_up()  # librosa's numba kernels compile here, not on the first session
    return engine


@serve.deployment(name="Roles")
class Roles:
    """Wraps a :class:`RoleLabeller`; stateless, so any replica can label any session."""

    def __init__(self, config: RolesConfig, engine: Callable[[], RoleLabeller] | None = None):
        self._engine = engine() if engine is not None else build_role_engine(config)

    async def ready(self) -> bool:
        return True

    async def label(self, context: list[dict[str, Any]], new: list[dict[str, Any]], samples: np.ndarray | None,
                    offset_s: float, channels: dict[str, str] | None) -> RoleLabels:
        """Roles for ``new`` masked segments given the session's committed ``context``.

        ``samples`` (``(channels, n)`` at 16 kHz from session time ``offset_s``)
        is the audio the new segments were recognised from, or ``None`` for text.
        """
        def run() -> RoleLabels:
            with timed("roles"):
                segs = [dict(s) for s in new]
                self._engine.attach_audio(segs, samples, TARGET_RATE, offset_s)
                return self._engine.label(context, segs, channels)

        return await asyncio.to_thread(run)
