"""Thresholds an operator changes at run time, without restarting a replica.

Serve's ``user_config`` reaches a running replica through its ``reconfigure`` method; a change to a
deployment's init arguments restarts it (reloading its models).  So the builder binds each deployment
with its tunable fields at their defaults and sends their configured values as ``user_config``: edit one
of these in ``serve_config.yaml`` (or the deployment's ``user_config``) and ``serve deploy`` retunes the
live replicas in place.  Anything else still restarts them, as it must.
"""
from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

__all__ = ["TUNABLE", "split", "applied"]

#: config section -> fields a running replica takes through ``reconfigure``
TUNABLE: dict[str, tuple[str, ...]] = {
    "guardrails": ("support_min", "align_min", "top_k", "entail_min", "contra_min"),
    "pii": ("score_threshold",),
}

C = TypeVar("C", bound=BaseModel)


def split(cfg: C, section: str) -> tuple[C, dict[str, Any]]:
    """(``cfg`` with its tunable fields at their defaults, the configured tunables as a user_config)."""
    names = TUNABLE[section]
    fields = type(cfg).model_fields
    static = cfg.model_copy(update={name: fields[name].default for name in names})
    return static, {name: getattr(cfg, name) for name in names}


def applied(cfg: C, section: str, user_config: dict[str, Any] | None) -> C:
    """``cfg`` with ``user_config``'s tunables, validated by the config model (ValueError otherwise:
    Serve then reports the update as failed and the replica keeps its current values)."""
    user_config = dict(user_config or {})
    unknown = set(user_config) - set(TUNABLE[section])
    if unknown:
        raise ValueError(f"not tunable at run time in {section}: {sorted(unknown)}")
    return type(cfg).model_validate({**cfg.model_dump(), **user_config})
