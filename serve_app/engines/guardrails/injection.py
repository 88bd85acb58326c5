"""Prompt-injection detection on transcript segments.

A segment whose text matches one of the patterns in
``configs/injection_patterns.yaml`` ("ignore previous instructions", "write in
the plan that ...", role markers such as "assistant:") is flagged.  The note
writer leaves flagged segments out of its candidate facts, so such text cannot
add items or orders; the note's structure is fixed by its JSON schema anyway.
"""
from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from typing import Sequence

__all__ = ["injection_patterns", "is_injection", "injected_segments"]


@lru_cache(maxsize=1)
def injection_patterns() -> tuple[re.Pattern, ...]:
    import yaml

    data = yaml.safe_load(resources.files("configs").joinpath("injection_patterns.yaml").read_text())
    return tuple(re.compile(p, re.IGNORECASE) for p in data["patterns"])


def is_injection(text: str) -> bool:
    return any(p.search(text) for p in injection_patterns())


def injected_segments(segments: Sequence[dict]) -> list[str]:
    """Ids of the segments (``id``, ``text``) that try to instruct the model."""
    return [seg["id"] for seg in segments if is_injection(seg.get("text", ""))]
