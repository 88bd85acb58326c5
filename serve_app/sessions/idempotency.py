"""``Idempotency-Key`` records and request ids: exactly-once effects under client and Ray retries.

* A key is scoped by clinician, route and session (a key once used for segments means nothing to
  ``POST /v1/sessions`` or to feedback, and another clinician's key is another key), is at most 128
  characters of ``[A-Za-z0-9._:-]``, and expires after :data:`TTL_S`.
* Each record keeps a fingerprint of the request (HMAC-SHA256 of its canonical JSON under the
  deployment's pseudonym key: the journal is not sealed, and a plain hash of a short transcript line
  could be reversed by guessing): the same key with another body is ``422 idempotency_key_reused``,
  never a silent replay that drops the new body.
* The ingress mints a request id for every non-idempotent store call (create, segments); Ray
  retries a store call whose reply was lost with the same arguments, so the store recognises the
  id and answers what the first run did instead of creating a second session or batch (review M2).

Records live in the events that made them (hidden from clients), so they survive restarts.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
from typing import Any

from serve_app.errors import ValidationFailed

__all__ = ["TTL_S", "check_key", "fingerprint", "replay", "remember"]

TTL_S = 24 * 3600.0
_KEY = re.compile(r"[A-Za-z0-9._:\-]{1,128}", re.ASCII)


def check_key(key: str | None) -> str | None:
    """``key`` if it is a valid ``Idempotency-Key`` (or absent); 422 ``invalid_idempotency_key`` otherwise."""
    if key is not None and not _KEY.fullmatch(key):
        raise ValidationFailed("Idempotency-Key must be 1-128 characters of letters, digits and . _ : -.",
                               code="invalid_idempotency_key")
    return key


def fingerprint(value: Any, key: bytes = b"") -> str:
    """HMAC-SHA256 under ``key`` of ``value`` as canonical JSON (what a key's later requests are
    compared with).  The service always passes its secret key; unkeyed is for tests only."""
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()


def replay(records: dict, route: str, key: str | None, fp: str | None, now: float) -> dict[str, Any] | None:
    """The first answer to ``key`` on ``route`` if it is remembered and not expired; 422 if the
    request differs from the one that made it."""
    record = records.get((route, key)) if key else None
    if record is None or now - record["ts"] > TTL_S:
        return None
    if fp and record.get("fingerprint") and record["fingerprint"] != fp:
        raise ValidationFailed("This Idempotency-Key was already used with a different request; use a new key.",
                               code="idempotency_key_reused")
    return dict(record["answer"])


def remember(records: dict, route: str, key: str | None, fp: str | None, answer: dict[str, Any],
             ts: float) -> None:
    """Record ``answer`` for ``key`` on ``route`` (no-op without a key)."""
    if key:
        records[(route, key)] = {"answer": answer, "fingerprint": fp, "ts": ts}
