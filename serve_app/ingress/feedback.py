"""``POST /v1/sessions/{sid}/feedback``: a clinician's accept / edit / reject, durable before the 201.

Order of work (each step is safe to repeat, so a retry with the same
``Idempotency-Key`` finishes what a failure interrupted and creates nothing new):

1. a replay of an ``Idempotency-Key`` the session already recorded returns the first answer;
2. the judged note and the masked transcript come from the session store
   (409 if the session never had that note version);
3. the clinician's text (edited note, reason) is masked: values the session
   already knows get their placeholders (:func:`mask_known_values`), then the
   PII deployment masks anything new with the session's map;
4. the flywheel spools the feedback durably (the 201 waits for this);
5. the session store records it; an accepted or edited note becomes the
   session's final note.

The feedback id is derived from the clinician, session and ``Idempotency-Key``
(random without a key), so a retried request lands on the same id.
"""
from __future__ import annotations

import hashlib
import secrets
import time
from importlib import resources
from typing import Any

from serve_app.clients import FlywheelClient, PiiClient
from serve_app.contracts import SECTIONS, FeedbackSubmission
from serve_app.engines.pii.engine import mask_known_values
from serve_app.errors import ValidationFailed
from serve_app.ingress.pseudonymizer import Pseudonymizer
from serve_app.ingress.schemas import FeedbackRequest
from serve_app.sessions.client import StoreClient

__all__ = ["FeedbackRecorder", "prompt_version", "provenance"]


def prompt_version() -> str:
    """Content hash of the prompt files the notes are written with."""
    digest = hashlib.sha256()
    for name in ("note_prompt.yaml", "note_sections.yaml"):
        digest.update(resources.files("configs").joinpath(name).read_bytes())
    return digest.hexdigest()[:12]


def provenance(cfg) -> dict[str, Any]:
    """``model_id``, ``prompt_version`` and ``config`` (an :class:`~serve_app.config.AppArgs`) for every row."""
    notes = cfg.notes
    return {"model_id": notes.model, "prompt_version": prompt_version(),
            "config": {"notes": {"backend": notes.backend, "mode": notes.mode, "temperature": notes.temperature,
                                 "max_items": notes.max_items, "max_tokens": notes.max_tokens},
                       "flywheel": {"similarity": cfg.flywheel.similarity,
                                    "dpo_max_similarity": cfg.flywheel.dpo_max_similarity}}}


def _feedback_id(clinician: str, sid: str, idempotency_key: str | None) -> str:
    if not idempotency_key:
        return f"fb_{secrets.token_hex(12)}"
    return "fb_" + hashlib.sha256(f"{clinician}\x00{sid}\x00{idempotency_key}".encode()).hexdigest()[:24]


class FeedbackRecorder:
    """Everything the feedback route does (see the module doc).

    Args:
        store: the session store client.
        pii: the PII deployment's client (``mask_segments``).
        flywheel: the Flywheel deployment's client (``submit``).
        pseudonyms: clinician and session ids -> dataset pseudonyms.
        provenance: ``model_id``, ``prompt_version`` and ``config`` recorded with every row.
    """

    def __init__(self, store: StoreClient, pii: PiiClient, flywheel: FlywheelClient, pseudonyms: Pseudonymizer,
                 provenance: dict[str, Any]):
        self._store, self._pii, self._flywheel = store, pii, flywheel
        self._pseudonyms = pseudonyms
        self._provenance = provenance

    async def _mask(self, texts: list[str], names: dict[str, str]) -> tuple[list[str], dict[str, str]]:
        if not texts:
            return [], {}
        known = [{"id": f"f{i}", "text": mask_known_values(t, names)} for i, t in enumerate(texts)]
        masked, delta = await self._pii.mask_segments(known, names)
        return [m["text"] for m in masked], delta

    async def record(self, clinician: str, sid: str, request: FeedbackRequest,
                     idempotency_key: str | None) -> dict[str, Any]:
        body_fp = self._pseudonyms.fingerprint(request.model_dump())
        replay = await self._store.feedback.feedback_replay(clinician, sid, idempotency_key, body_fp)
        if replay:
            return {"feedback_id": replay["feedback_id"]}
        if request.action == "edit" and request.note is None:
            raise ValidationFailed("An edit needs the edited note in 'note'.", code="note_required")
        context = await self._store.feedback.feedback_context(clinician, sid, request.note_version)
        segment_ids = {s["id"] for s in context["segments"]}
        items = [(section, k, item) for section in SECTIONS
                 for k, item in enumerate(getattr(request.note, section) if request.action == "edit" else [])]
        texts = [item.text for _, _, item in items] + ([request.reason] if request.reason else [])
        masked, delta = await self._mask(texts, context["names"])
        final_note = None
        if request.action == "edit":
            final_note = {section: [] for section in SECTIONS}
            for (section, k, item), text in zip(items, masked):
                final_note[section].append({"id": item.id or f"{section[0]}{k}", "text": text,
                                            "citations": [c for c in item.citations if c in segment_ids]})
        elif request.action == "accept":
            final_note = context["note"]
        feedback_id = _feedback_id(clinician, sid, idempotency_key)
        feedback: FeedbackSubmission = {
            "feedback_id": feedback_id, "session": self._pseudonyms.id("session", sid),
            "clinician": self._pseudonyms.id("clinician", clinician), "action": request.action,
            "note_version": request.note_version, "generated_note": context["note"], "segments": context["segments"],
            "received_at": time.time(), "final_note": final_note if request.action == "edit" else None,
            "reason": masked[-1] if request.reason else None, **self._provenance}
        await self._flywheel.submit(feedback)
        await self._store.feedback.record_feedback(clinician, sid, feedback_id, request.action, request.note_version,
                                                   final_note, idempotency_key, delta, body_fp)
        return {"feedback_id": feedback_id}
