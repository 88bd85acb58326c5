"""Encryption at rest for what holds PHI: the names map, raw audio and raw text batches.

AES-256-GCM (``cryptography``) seals each file; its place (``<sid>/<name>``) is the
associated data, so a sealed file moved to another session or name fails to open.
A sealed file is ``SCRBSEAL1 | key id (8 bytes) | nonce (12) | ciphertext+tag``.

Keys form a ring, newest first: ``SCRIBE_DATA_KEYS`` (comma separated) or, in the
embedded default, a 0600 file with one key a line (``$SCRIBE_HOME/data-keys``).  A key
is any secret string of 32+ characters; the AES key is derived from it with HKDF-SHA256.
New files are sealed with the newest key; any key in the ring opens what it sealed.
Rotation: put a new key first, run ``scribe data-key reseal`` (every file re-sealed
with the newest key), then drop the old key.  Files written before encryption was
switched on (no header) are read as they are and sealed by the next reseal.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from serve_app.durable import ensure_secret_file, new_secret

__all__ = ["Sealer", "SealError", "ensure_key_file", "rotate_key_file", "MAGIC"]

MAGIC = b"SCRBSEAL1"
_INFO = b"clinical-scribe data at rest v1"


class SealError(ValueError):
    """A sealed file that no key in the ring opens, or that was altered or moved."""


def _derive(secret: str) -> tuple[bytes, AESGCM]:
    if len(secret) < 32:
        raise ValueError("a data key must be at least 32 characters")
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret.encode())
    return hashlib.sha256(key).digest()[:8], AESGCM(key)


class Sealer:
    """Seal and open bytes with a key ring (newest first)."""

    def __init__(self, secrets_newest_first: list[str]):
        if not secrets_newest_first:
            raise ValueError("the data key ring is empty")
        self._ring = [_derive(s) for s in secrets_newest_first]
        self._by_id = dict(self._ring)

    @classmethod
    def from_secret(cls, keys: str | None, key_path: str | Path | None) -> "Sealer":
        """``SCRIBE_DATA_KEYS`` (through the settings) or the key file at ``key_path``."""
        if keys:
            return cls([k.strip() for k in keys.split(",") if k.strip()])
        if key_path and Path(key_path).exists():
            return cls([k.strip() for k in Path(key_path).read_text().splitlines() if k.strip()])
        raise RuntimeError("no data key: set SCRIBE_DATA_KEYS")

    @property
    def key_id(self) -> bytes:
        return self._ring[0][0]

    def seal(self, data: bytes, place: str) -> bytes:
        key_id, aead = self._ring[0]
        nonce = os.urandom(12)
        return MAGIC + key_id + nonce + aead.encrypt(nonce, data, place.encode())

    def open(self, blob: bytes, place: str) -> bytes:
        if not blob.startswith(MAGIC):
            return blob  # written before encryption was switched on
        key_id, nonce, body = blob[len(MAGIC):len(MAGIC) + 8], blob[len(MAGIC) + 8:len(MAGIC) + 20], \
            blob[len(MAGIC) + 20:]
        aead = self._by_id.get(key_id)
        if aead is None:
            raise SealError("no key in the data key ring opens this file")
        try:
            return aead.decrypt(nonce, body, place.encode())
        except Exception as exc:  # cryptography's InvalidTag: altered, truncated or moved
            raise SealError("a sealed file failed its integrity check") from exc

    def is_current(self, blob: bytes) -> bool:
        """Sealed with the newest key (nothing for a reseal to do)."""
        return blob.startswith(MAGIC + self.key_id)


def ensure_key_file(path: Path) -> Path:
    """Create the 0600 key file with one fresh key if it does not exist (the embedded default)."""
    return ensure_secret_file(path)


def rotate_key_file(path: Path) -> None:
    """Put a fresh key first in the key file (older keys stay, to open what they sealed)."""
    old = path.read_text() if path.exists() else ""
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(new_secret() + "\n" + old)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
