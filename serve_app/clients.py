"""Typed clients of the engine deployments: one class per deployment, one method per call.

A Serve handle turns any attribute into a remote method, so ``handle.trnscribe``
would fail only inside the replica at run time.  These classes name each call once,
with its types; a unit test holds every method to the deployment class's own
signature.  Unit tests pass fakes with the same methods instead.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from serve_app.contracts import FeedbackSubmission, Note, PromptSegment, RoleLabels, Warning, WrittenNote
from serve_app.engines.asr.protocol import AsrSegment

__all__ = ["AsrClient", "PiiClient", "RolesClient", "NotesClient", "GuardrailsClient", "FlywheelClient",
           "PipelineClient", "DeploymentClient"]


class DeploymentClient:
    """Base: holds the handle; every deployment answers ``ready``."""

    def __init__(self, handle):
        self._handle = handle

    async def ready(self) -> bool:
        return await self._handle.ready.remote()


class AsrClient(DeploymentClient):
    async def transcribe(self, samples: np.ndarray) -> list[AsrSegment]:
        """16 kHz mono float32 -> segments with word timings (seconds from sample 0)."""
        return await self._handle.transcribe.remote(samples)


class PiiClient(DeploymentClient):
    async def mask_segments(self, segments: list[dict[str, Any]],
                            names: dict[str, str]) -> tuple[list[dict[str, Any]], dict[str, str]]:
        """Segments masked against the session's map, and the placeholders first seen here."""
        return await self._handle.mask_segments.remote(segments, names)


class RolesClient(DeploymentClient):
    async def label(self, context: list[dict[str, Any]], new: list[dict[str, Any]], samples: np.ndarray | None,
                    offset_s: float, channels: dict[str, str] | None) -> RoleLabels:
        """Roles for ``new`` given the session's ``context`` (and the audio they came from, if any)."""
        return await self._handle.label.remote(context, new, samples, offset_s, channels)


class NotesClient(DeploymentClient):
    async def write(self, segments: list[PromptSegment], fresh: bool = False) -> WrittenNote:
        """A cited SOAP note for masked ``segments`` (``id``, ``text``, ``role``)."""
        return await self._handle.write.remote(segments, fresh)


class GuardrailsClient(DeploymentClient):
    async def check(self, note: Note | None, segments: list[PromptSegment]) -> list[Warning]:
        """Warnings about ``note`` against the masked ``segments``."""
        return await self._handle.check.remote(note, segments)


class FlywheelClient(DeploymentClient):
    async def submit(self, feedback: FeedbackSubmission) -> bool:
        """Spool one masked feedback durably; False if its id was already taken."""
        return await self._handle.submit.remote(feedback)

    async def erase(self, session: str) -> dict[str, int]:
        """Erase a session's rows (by its pseudonym) from the flywheel; rows removed per place."""
        return await self._handle.erase.remote(session)


class PipelineClient(DeploymentClient):
    def kick(self, sid: str) -> None:
        """Nudge the session's processing (fire and forget; the pipeline's scan is the safety net)."""
        self._handle.kick.remote(sid)

    async def forget(self, sid: str) -> None:
        """Drop the decoded audio the pipeline holds in memory for ``sid`` (erasure)."""
        await self._handle.forget.remote(sid)
