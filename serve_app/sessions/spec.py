"""What the session store is built from, decided once by the app builder."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["StoreSpec"]


class StoreSpec(BaseModel):
    """The store's settings, derived from ``AppArgs`` once (``serve_app.app.store_spec``) and
    handed to every replica that reaches the store, so they can never disagree."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    data_dir: str = Field("", description="Absolute path of the durable session data (the actor opens it).")
    data_key_path: str = Field("", description="The data key file (when SCRIBE_DATA_KEYS is unset); "
                                               "empty: PHI files are not encrypted (unit tests only).")
    redis_prefix: str = Field("scribe:", description="Key prefix of this deployment's sessions when REDIS_URL is set.")
    actor_name: str = Field("scribe_session_store", description="Name of the session-store actor.")
    namespace: str = Field("scribe", description="Ray namespace of the session-store actor.")
    max_pending_chunks: int = Field(64, gt=0, description="Back-pressure limit per session (503 beyond it).")
    max_seq_ahead: int = Field(256, gt=0, description="A chunk more than this beyond the highest received "
                                                      "is refused (422 seq_out_of_range).")
    max_open_sessions: int = Field(64, gt=0, description="Unfinished sessions per clinician (429 beyond).")
    max_open_bytes: int = Field(2 << 30, gt=0, description="Bytes of audio and text one clinician's unfinished "
                                                          "sessions hold (413 byte_quota beyond).")
    max_segments: int = Field(20_000, gt=0, description="Posted text segments per session (413 beyond).")
    cached_sessions: int = Field(64, ge=0, description="Finished, idle sessions kept in memory after use "
                                                       "(others are loaded from the journal when asked for).")
    min_free_bytes: int = Field(0, ge=0, description="Free space the data disk keeps; new data is 507 below it.")
    finish_grace_s: float = Field(20.0, ge=0,
                                  description="After finish, how long a gap in chunk numbers is waited for.")
    notes: bool = Field(True, description="A session finishes only after its final note.")
    checks: bool = Field(False, description="...and only after that note's guardrail checks.")
    context_s: float = Field(3.0, ge=0, description="Committed audio a chunk's work item carries as ASR context.")
    max_step_s: float = Field(0.0, ge=0, description="New audio one chunk step may cover: the waiting chunks after "
                                                     "the next one join its step up to this many seconds.")
