"""Bearer-token authentication.

Tokens come from ``SCRIBE_API_TOKENS`` (``clinician_id:token,...``).  With none
set, the embedded default creates one development token in
``$SCRIBE_HOME/dev-token`` (mode 0600) for the clinician ``dev``; only its path
is ever logged.  Tokens are kept as SHA-256 digests and compared in constant time.
"""
from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from serve_app.durable import ensure_secret_file
from serve_app.errors import Unauthorized

__all__ = ["TokenAuth", "ensure_dev_token", "DEV_CLINICIAN"]

DEV_CLINICIAN = "dev"


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def ensure_dev_token(path: Path) -> Path:
    """Create a secret file (0600: the development token, the pseudonym key) if it does not exist."""
    return ensure_secret_file(path)


class TokenAuth:
    """Maps bearer tokens to clinician ids."""

    def __init__(self, tokens: dict[str, str]):
        if not tokens:
            raise ValueError("at least one API token is required")
        self._by_digest = {_digest(tok): clinician for tok, clinician in tokens.items()}

    @classmethod
    def from_spec(cls, spec: str) -> "TokenAuth":
        """Parse ``clinician_id:token,clinician_id:token``."""
        tokens = {}
        for pair in spec.split(","):
            clinician, sep, token = pair.strip().partition(":")
            if not sep or not clinician or len(token) < 8:
                raise ValueError("SCRIBE_API_TOKENS entries must be clinician_id:token (token >= 8 chars)")
            tokens[token] = clinician
        return cls(tokens)

    @classmethod
    def from_secret(cls, spec: str | None, dev_token_path: str | None) -> "TokenAuth":
        """Tokens from ``SCRIBE_API_TOKENS`` (through the settings), else the development token file."""
        if spec:
            return cls.from_spec(spec)
        if dev_token_path and Path(dev_token_path).exists():
            return cls({Path(dev_token_path).read_text().strip(): DEV_CLINICIAN})
        raise ValueError("no SCRIBE_API_TOKENS and no development token file")

    def clinician(self, authorization: str | None) -> str:
        """The clinician id for an ``Authorization`` header, or raise 401."""
        if not authorization:
            raise Unauthorized("Missing bearer token.", code="missing_token")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("Use 'Authorization: Bearer <token>'.", code="invalid_token")
        digest = _digest(token.strip())
        for known, clinician in self._by_digest.items():
            if hmac.compare_digest(known, digest):
                return clinician
        raise Unauthorized("Unknown token.", code="invalid_token")
