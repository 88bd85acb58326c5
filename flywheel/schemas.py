"""Pinned pyarrow schemas of the flywheel datasets (one row type each, versioned).

Every row carries ``schema_version``; every file carries it in its schema
metadata.  A change of any field is a new version, never an edit in place, so
a reader can always tell which shape it holds.  Files are partitioned by
``date=YYYY-MM-DD`` (UTC day the feedback was received); the ``date`` column
readers see comes from the path, not from the file.

Shapes follow what fine-tuning libraries read: SFT rows hold chat ``messages``
(list of ``{role, content}``), DPO rows ``prompt`` / ``chosen`` / ``rejected``
(TRL's ``DPOTrainer`` convention).
"""
from __future__ import annotations

import pyarrow as pa

__all__ = ["SCHEMA_VERSION", "DATASETS", "FEEDBACK", "SFT", "DPO", "QUARANTINE", "schema_for"]

SCHEMA_VERSION = 1

_PROVENANCE = [
    pa.field("schema_version", pa.int32(), nullable=False),
    pa.field("feedback_id", pa.string(), nullable=False),
    pa.field("session", pa.string(), nullable=False),  # pseudonymous session id (HMAC)
    pa.field("clinician", pa.string(), nullable=False),  # pseudonymous clinician id (HMAC)
    pa.field("note_version", pa.int64(), nullable=False),  # the note version the clinician judged
    pa.field("model_id", pa.string()),
    pa.field("prompt_version", pa.string()),
    pa.field("config", pa.string()),  # JSON of the note and flywheel settings in force
    pa.field("received_at", pa.timestamp("ms", tz="UTC"), nullable=False),
]
_MESSAGE = pa.struct([pa.field("role", pa.string()), pa.field("content", pa.string())])


def _schema(fields: list[pa.Field], name: str) -> pa.Schema:
    return pa.schema(_PROVENANCE + fields, metadata={b"schema_version": str(SCHEMA_VERSION).encode(),
                                                     b"dataset": name.encode()})


FEEDBACK = _schema([
    pa.field("action", pa.string(), nullable=False),  # accept | edit | reject
    pa.field("reason", pa.string()),  # masked
    pa.field("transcript", pa.string(), nullable=False),  # masked, "Doctor: ..." lines
    pa.field("generated_note", pa.string(), nullable=False),  # JSON of the judged note (masked)
    pa.field("final_note", pa.string()),  # JSON of the accepted / edited note (masked); null for reject
    pa.field("similarity", pa.float64()),  # generated vs final note text, 0..1; null for reject
    pa.field("substantive", pa.bool_()),  # an edit below the similarity threshold
], "feedback")

SFT = _schema([
    pa.field("messages", pa.list_(_MESSAGE), nullable=False),
    pa.field("source", pa.string(), nullable=False),  # accept | edit
], "sft")

DPO = _schema([
    pa.field("prompt", pa.string(), nullable=False),
    pa.field("chosen", pa.string(), nullable=False),
    pa.field("rejected", pa.string(), nullable=False),
    pa.field("similarity", pa.float64(), nullable=False),
], "dpo")

QUARANTINE = _schema([
    pa.field("dataset", pa.string(), nullable=False),  # where the row was going
    pa.field("entity_types", pa.list_(pa.string()), nullable=False),  # what the scan found (never the value)
    pa.field("row", pa.string(), nullable=False),  # the row as JSON with what was found redacted to its type
], "quarantine")

DATASETS = {"feedback": FEEDBACK, "sft": SFT, "dpo": DPO, "quarantine": QUARANTINE}


def schema_for(dataset: str) -> pa.Schema:
    return DATASETS[dataset]
