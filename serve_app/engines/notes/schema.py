"""The SOAP note document and the JSON schemas that constrain the model.

A note is four sections (:data:`SECTIONS`), each a list of items
``{"id": "n0", "text": "...", "citations": ["s3", ...]}``; citations are ids of
the session's transcript segments.  The model writes one section at a time
under :func:`section_schema` (bounded, so a small model closes its arrays, and
with citations limited to the ids it was shown); the assembled note is checked
against :class:`Note`.
"""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from serve_app.contracts import SECTIONS

__all__ = ["NoteItem", "Note", "section_schema", "fact_schema"]



class NoteItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^n\d+$")
    text: str = Field(min_length=1, max_length=1000)
    citations: list[str] = Field(min_length=1)


class Note(BaseModel):
    """A SOAP note whose every item cites at least one segment."""

    model_config = ConfigDict(extra="forbid")

    subjective: list[NoteItem] = []
    objective: list[NoteItem] = []
    assessment: list[NoteItem] = []
    plan: list[NoteItem] = []

    def items(self) -> list[tuple[str, NoteItem]]:
        return [(section, item) for section in SECTIONS for item in getattr(self, section)]




def section_schema(fact_ids: list[str], max_items: int, max_chars: int, max_citations: int = 3) -> dict[str, Any]:
    """JSON schema for one section's answer: ``{"items": [{"text", "citations"}]}``.

    ``citations`` may only name ids in ``fact_ids``; lengths are bounded.
    """
    citation: dict[str, Any] = {"type": "string", "enum": list(fact_ids)} if fact_ids else {"type": "string"}
    return {
        "type": "object",
        "properties": {
            "items": {
                "type": "array",
                "maxItems": max_items,
                "items": {
                    "type": "object",
                    "properties": {
                        "text": {"type": "string", "minLength": 3, "maxLength": max_chars},
                        "citations": {"type": "array", "minItems": 1, "maxItems": max_citations,
                                      "items": citation},
                    },
                    "required": ["text", "citations"],
                    "additionalProperties": False,
                },
            }
        },
        "required": ["items"],
        "additionalProperties": False,
    }


def fact_schema(max_chars: int) -> dict[str, Any]:
    """JSON schema for one rewritten fact: ``{"text": "..."}`` (the writer adds its citations)."""
    return {
        "type": "object",
        "properties": {"text": {"type": "string", "minLength": 3, "maxLength": max_chars}},
        "required": ["text"],
        "additionalProperties": False,
    }
