"""Secrets and paths from the environment (YAML holds behaviour, not secrets).

``SCRIBE_API_TOKENS``  ``clinician_id:token,clinician_id:token``; when unset the
                       embedded default creates a development token file.
``SCRIBE_HOME``        where the dev token lives (default ``.scribe``).
``SCRIBE_DATA_DIR``    durable session data (default ``$SCRIBE_HOME/data``).
``SCRIBE_MODEL_CACHE`` converted/joined models (default ``~/.cache/clinical-scribe``).
"""
from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SCRIBE_", extra="ignore")

    api_tokens: SecretStr | None = Field(None, description="clinician_id:token pairs, comma separated.")
    home: Path = Field(Path(".scribe"), description="Per-deployment working directory.")
    data_dir: Path | None = Field(None, description="Durable session data; default $SCRIBE_HOME/data.")
    model_cache: Path = Field(Path("~/.cache/clinical-scribe"), description="Model conversion cache.")
    sse_ping_s: float = Field(15.0, gt=0, description="Seconds between SSE heartbeats.")

    def resolved_home(self) -> Path:
        return self.home.expanduser().resolve()

    def resolved_data_dir(self) -> Path:
        return (self.data_dir or self.resolved_home() / "data").expanduser().resolve()

    def resolved_model_cache(self) -> Path:
        return self.model_cache.expanduser().resolve()

    def dev_token_path(self) -> Path:
        return self.resolved_home() / "dev-token"
