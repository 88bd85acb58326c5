"""Pseudonymous ids for the datasets: HMAC-SHA256 of the real id under a deployment secret.

The same clinician or session always maps to the same pseudonym (so rows can
be grouped), and without the key the pseudonym says nothing about the id.  The
key comes from ``SCRIBE_PSEUDONYM_KEY`` or a 0600 file the embedded default
creates next to the development token; it never enters a log or a dataset.
"""
from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from typing import Any

from serve_app.sessions.idempotency import fingerprint

__all__ = ["Pseudonymizer"]


class Pseudonymizer:
    def __init__(self, key: bytes):
        if len(key) < 16:
            raise ValueError("the pseudonym key must be at least 16 bytes")
        self._key = key

    @classmethod
    def from_secret(cls, key: str | None, key_path: str | None) -> "Pseudonymizer":
        """The key itself (``SCRIBE_PSEUDONYM_KEY``, through the settings) or the file at ``key_path``."""
        if key:
            return cls(key.encode())
        if key_path and Path(key_path).exists():
            return cls(Path(key_path).read_text().strip().encode())
        raise RuntimeError("no pseudonym key: set SCRIBE_PSEUDONYM_KEY")

    def fingerprint(self, value: Any) -> str:
        """A keyed fingerprint of a request body (:func:`~serve_app.sessions.idempotency.fingerprint`)."""
        return fingerprint(value, self._key)

    def id(self, kind: str, value: str) -> str:
        """``<kind>_<24 hex>`` for ``value`` (e.g. ``clinician_3f...``)."""
        return f"{kind}_{hmac.new(self._key, f'{kind}:{value}'.encode(), hashlib.sha256).hexdigest()[:24]}"
