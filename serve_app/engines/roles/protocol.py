"""The role-labelling protocol: what the Roles deployment needs from an engine."""
from __future__ import annotations

from typing import Any, Protocol, Sequence

import numpy as np

from serve_app.contracts import RoleLabels

__all__ = ["RoleLabeller"]


class RoleLabeller(Protocol):
    """Doctor or patient for new segments, given the session's committed ones.

    Implemented by :class:`~serve_app.engines.roles.engine.RoleEngine`; a
    deterministic fake lives in ``bench/harness/fakes/roles.py``.
    """

    def attach_audio(self, segments: list[dict[str, Any]], samples: np.ndarray | None, rate: int,
                     offset_s: float) -> None:
        """Add internal per-word voice features to ``segments`` in place (no-op for text)."""
        ...

    def label(self, context: Sequence[dict[str, Any]], new: Sequence[dict[str, Any]],
              channels: dict[str, str] | None = None) -> RoleLabels:
        """Roles for ``new`` (possibly split where the voice changes) and revisions of ``context``."""
        ...
