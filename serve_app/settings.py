"""Secrets and paths from the environment: the one place that reads ``SCRIBE_*``.

YAML (``serve_config.yaml``) holds behaviour; this class holds what differs per
machine or is secret.  Nothing else in the project reads these variables.

=========================  ====================================================
``SCRIBE_API_TOKENS``      ``clinician_id:token,clinician_id:token``; unset: the
                           embedded default creates a development token file.
``SCRIBE_PSEUDONYM_KEY``   HMAC key of the dataset pseudonyms (>= 16 bytes);
                           unset: a 0600 key file next to the development token.
``SCRIBE_DATA_KEYS``       keys sealing PHI at rest (names, audio, raw text),
                           newest first, comma separated; unset: a 0600 key
                           file ``$SCRIBE_HOME/data-keys``.
``SCRIBE_HOME``            working directory (dev token, key file); ``.scribe``.
``SCRIBE_DATA_DIR``        durable session data; ``$SCRIBE_HOME/data``.
``SCRIBE_MODEL_CACHE``     converted / joined models; ``~/.cache/clinical-scribe``.
``SCRIBE_FLYWHEEL_ROOT``   dataset root for the ``flywheel`` tools when no config
                           names one; ``$SCRIBE_DATA_DIR/flywheel``.
``SCRIBE_SHARED_DIR``      the evaluation and training data (offline tools and
                           tests); ``../shared`` beside the checkout.
``REDIS_URL``              the session store in Redis (``redis://``, ``rediss://``,
(``SCRIBE_REDIS_URL``)     ``unix://``; a secret); unset: the local-disk journal.
``SCRIBE_BLOB_ROOT``       audio blobs of the Redis store: a path every node
                           mounts or a ``pyarrow.fs`` URI; ``$SCRIBE_DATA_DIR/blobs``.
``SCRIBE_SSE_PING_S``      seconds between SSE heartbeats; 15.
=========================  ====================================================
"""
from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "CHECKOUT"]

#: The source checkout this package runs from (meaningful for offline tools only).
CHECKOUT = Path(__file__).resolve().parents[1]


class Settings(BaseSettings):
    """Every ``SCRIBE_*`` environment variable, typed, with its default."""

    model_config = SettingsConfigDict(env_prefix="SCRIBE_", extra="ignore")

    api_tokens: SecretStr | None = Field(None, description="clinician_id:token pairs, comma separated.")
    pseudonym_key: SecretStr | None = Field(None, description="HMAC key of the dataset pseudonyms.")
    data_keys: SecretStr | None = Field(None, description="Data-at-rest keys, newest first, comma separated.")
    home: Path = Field(Path(".scribe"), description="Per-deployment working directory.")
    data_dir: Path | None = Field(None, description="Durable session data; default $SCRIBE_HOME/data.")
    model_cache: Path = Field(Path("~/.cache/clinical-scribe"), description="Model conversion cache.")
    flywheel_root: str | None = Field(None, description="Dataset root for the flywheel tools.")
    shared_dir: Path | None = Field(None, description="Evaluation and training data; default ../shared.")
    redis_url: SecretStr | None = Field(None, validation_alias=AliasChoices("REDIS_URL", "SCRIBE_REDIS_URL"),
                                        description="Session store in this Redis (redis://, rediss://, unix://); "
                                                    "unset: the local-disk journal.")
    blob_root: str | None = Field(None, description="Audio blobs of the Redis store: a path every node mounts or a "
                                                    "pyarrow.fs URI; default $SCRIBE_DATA_DIR/blobs.")
    sse_ping_s: float = Field(15.0, gt=0, description="Seconds between SSE heartbeats.")

    def resolved_home(self) -> Path:
        return self.home.expanduser().resolve()

    def resolved_data_dir(self) -> Path:
        return (self.data_dir or self.resolved_home() / "data").expanduser().resolve()

    def resolved_model_cache(self) -> Path:
        return self.model_cache.expanduser().resolve()

    def resolved_flywheel_root(self) -> str:
        return self.flywheel_root or str(self.resolved_data_dir() / "flywheel")

    def resolved_shared_dir(self) -> Path:
        return (self.shared_dir or CHECKOUT.parent / "shared").expanduser().resolve()

    def audit_log_path(self) -> Path:
        """The append-only audit log (who revealed names, exported, fed back, deleted)."""
        return self.resolved_data_dir() / "audit" / "audit.jsonl"

    def dev_token_path(self) -> Path:
        return self.resolved_home() / "dev-token"

    def pseudonym_key_path(self) -> Path:
        return self.resolved_home() / "pseudonym-key"

    def data_key_path(self) -> Path:
        return self.resolved_home() / "data-keys"

    def sealer(self, key_path: str | Path | None = None):
        """The data-at-rest :class:`~serve_app.sealing.Sealer` (env keys first, else the key file)."""
        from serve_app.sealing import Sealer

        keys = self.data_keys.get_secret_value() if self.data_keys else None
        return Sealer.from_secret(keys, key_path or self.data_key_path())

    def tokens_spec(self) -> str | None:
        return self.api_tokens.get_secret_value() if self.api_tokens else None
