"""Request and response schemas of the HTTP API (API.md), in one place."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Role", "ErrorDetail", "ErrorBody", "CreateSessionRequest", "CreateSessionResponse",
    "SessionSummary", "ChunkAccepted", "SegmentIn", "SegmentsRequest", "SegmentsAccepted",
    "FinishAccepted", "Health", "RoleCorrection", "ErasurePending",
]

Role = Literal["doctor", "patient"]


class ErrorDetail(BaseModel):
    code: str = Field(description="Machine-readable error code.")
    message: str = Field(description="Human sentence; never contains PHI.")


class ErrorBody(BaseModel):
    error: ErrorDetail


class CreateSessionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    channels: dict[Literal["0", "1"], Role] | None = Field(
        None, description='Audio with one speaker per channel: {"0": "doctor", "1": "patient"}.'
    )


class CreateSessionResponse(BaseModel):
    session_id: str


class SessionSummary(BaseModel):
    session_id: str
    status: str
    created_at: float
    updated_at: float
    segments: int


class ChunkAccepted(BaseModel):
    seq: int
    duplicate: bool = Field(False, description="True when this exact chunk was already stored.")


class ErasurePending(BaseModel):
    """202 to a DELETE: part of the erasure could not be done now; it is retried until done."""

    status: Literal["erasure_pending"] = "erasure_pending"
    pending: list[str] = Field(description="Steps not done yet: session, pipeline_cache, flywheel.")


class SegmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    text: str = Field(min_length=1, description="Utterance text (PHI allowed; it is masked).")
    role: Role | None = Field(None, description="Speaker role if known; null to infer.")
    start: float | None = Field(None, ge=0, description="Start time in seconds.")
    end: float | None = Field(None, ge=0, description="End time in seconds.")


class SegmentsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    segments: list[SegmentIn] = Field(min_length=1)


class RoleCorrection(BaseModel):
    """``PATCH .../segments/{id}``: a clinician's role for one segment."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    role: Role = Field(description="The segment's speaker.")


class NoteItemIn(BaseModel):
    """One item of a clinician's edited note."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)
    id: str | None = Field(None, max_length=64)
    text: str = Field(min_length=1, max_length=5000)
    citations: list[str] = Field(default_factory=list, max_length=200)


class NoteIn(BaseModel):
    """A note as the API serves it: four sections of items."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    subjective: list[NoteItemIn] = Field(default_factory=list, max_length=200)
    objective: list[NoteItemIn] = Field(default_factory=list, max_length=200)
    assessment: list[NoteItemIn] = Field(default_factory=list, max_length=200)
    plan: list[NoteItemIn] = Field(default_factory=list, max_length=200)


class FeedbackRequest(BaseModel):
    """``POST .../feedback``: a clinician's judgement of one note version."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    action: Literal["accept", "edit", "reject"]
    note_version: int = Field(ge=1, description="The note version judged.")
    note: NoteIn | None = Field(None, description="The clinician's note; required for edit.")
    reason: str | None = Field(None, max_length=2000, description="Why (reject, or any action).")


class FeedbackAccepted(BaseModel):
    feedback_id: str


class SegmentsAccepted(BaseModel):
    batch: int
    accepted: int


class FinishAccepted(BaseModel):
    status: str


class Health(BaseModel):
    """``/healthz``: anyone learns up or down; an authenticated caller also sees each part."""

    status: Literal["ok", "starting"]
    deployments: dict[str, str] | None = Field(None, description="Per part: 'ok' or 'unavailable' "
                                                                 "(authenticated callers only).")
