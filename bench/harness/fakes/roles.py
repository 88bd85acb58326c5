"""A deterministic role engine: a question is the doctor's, anything else the patient's.

Roles given by the client (or corrected by a clinician) are kept; model roles get
confidence 0.9, or 0.6 (uncertain) for segments shorter than three words.
"""
from __future__ import annotations

from typing import Any, Sequence

from serve_app.contracts import RoleLabels

__all__ = ["FakeRoles"]


class FakeRoles:
    """Implements :class:`~serve_app.engines.roles.protocol.RoleLabeller`."""

    def attach_audio(self, segments, samples, rate, offset_s) -> None:
        return None

    def label(self, context: Sequence[dict[str, Any]], new: Sequence[dict[str, Any]],
              channels: dict[str, str] | None = None) -> RoleLabels:
        out = []
        for seg in new:
            seg = dict(seg)
            if seg.get("role") in ("doctor", "patient"):
                seg.update(role_confidence=1.0, role_uncertain=False, role_source=seg.get("role_source") or "client")
            else:
                short = len(seg["text"].split()) < 3
                seg.update(role="doctor" if seg["text"].rstrip().endswith("?") else "patient",
                           role_confidence=0.6 if short else 0.9, role_uncertain=short, role_source="model")
            out.append(seg)
        return {"segments": out, "revisions": {}}
