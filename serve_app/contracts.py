"""The shapes that cross process boundaries, defined once.

Segments, note items, warnings and events travel between the ingress, the
session-store actor, the pipeline and the engine deployments as plain JSON-able
dicts (they are journalled as they are, so the journal format is these shapes).
They are declared here as ``TypedDict``\\ s: free at run time, checked by type
checkers, and turned into JSON Schema by pydantic, so the same definitions
document ``GET /v1/sessions/{sid}`` and every server-sent event in
``openapi.json``.

The event catalogue (:data:`EVENT_DATA`) maps every event ``type`` to the model
of its ``data``; :func:`event_catalogue_schema` renders it for the OpenAPI
document and :func:`validate_event` checks a public event against it.
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, TypeAdapter
from typing_extensions import Annotated, NotRequired, TypedDict

__all__ = [
    "SECTIONS", "Role", "RoleSource", "SessionStatus", "Word", "Segment", "RoleUpdate", "NoteItem",
    "Note", "Warning", "ChunkCounts", "RoleLabels", "WrittenNote", "FeedbackSubmission", "SessionStateDoc",
    "SessionSummaryDoc", "Event", "EVENT_DATA", "empty_note", "event_catalogue_schema", "validate_event",
    "HIDDEN_EVENT_FIELDS", "PromptSegment", "ChunkData", "NoteInputs", "CheckInputs", "EventBatch",
]

#: The SOAP sections, in the order a note shows them.
SECTIONS: tuple[str, ...] = ("subjective", "objective", "assessment", "plan")
Role = Literal["doctor", "patient"]
RoleSource = Literal["client", "clinician", "channel", "model"]
SessionStatus = Literal["recording", "processing", "finished", "failed"]

#: Event ``data`` fields that stay inside the store (never streamed or served).
HIDDEN_EVENT_FIELDS = ("owner", "idempotency_key", "fingerprint", "request_id")


class Word(TypedDict):
    """One recognised word; times in seconds from the start of the session's audio."""

    text: str
    start: float
    end: float


class Segment(TypedDict):
    """One utterance of the transcript, masked (PHI replaced by ``[TYPE_n]`` placeholders)."""

    id: Annotated[str, Field(description="'s<n>', in spoken order.")]
    text: Annotated[str, Field(description="Masked text.")]
    start: Annotated[float | None, Field(description="Seconds from the start of the session's audio.")]
    end: Annotated[float | None, Field(description="Seconds from the start of the session's audio.")]
    role: Role | None
    role_confidence: Annotated[float | None, Field(description="0..1; 1.0 for a role given or corrected.")]
    role_uncertain: NotRequired[Annotated[bool, Field(description="Confidence below roles.low_confidence.")]]
    role_source: NotRequired[RoleSource | None]
    source: NotRequired[Literal["asr", "text"]]
    words: NotRequired[list[Word]]


class PromptSegment(TypedDict):
    """A masked segment as the note writer, the guardrails and the datasets see it."""

    id: str
    text: str
    role: NotRequired[Role | None]


class ChunkData(TypedDict):
    """A stored chunk as a pipeline step needs it (``data``: the uploaded bytes, when asked for)."""

    seq: int
    content_type: str
    offset_s: float | None
    duration_s: float
    data: NotRequired[bytes]


class NoteInputs(TypedDict):
    """What the next note is written from (the store's answer to the note updater)."""

    basis: Annotated[int, Field(description="The input revision the note will be written from.")]
    note_basis: int
    note_final: bool
    finish_requested: bool
    finished: bool
    segments: list[PromptSegment]


class CheckInputs(TypedDict):
    """The current note and what it is checked against (the store's answer to the note checks)."""

    note_version: int
    note: Note | None
    checked: bool
    segments: list[PromptSegment]


class RoleUpdate(TypedDict):
    """A revised role of an earlier segment."""

    role: Role | None
    role_confidence: float | None
    role_uncertain: NotRequired[bool]
    role_source: NotRequired[RoleSource | None]


class NoteItem(TypedDict):
    """One statement of the note and the segments it rests on."""

    id: str
    text: Annotated[str, Field(description="Masked text.")]
    citations: Annotated[list[str], Field(description="Ids of the segments the statement rests on.")]


class Note(TypedDict):
    """A SOAP note: four sections of items."""

    subjective: list[NoteItem]
    objective: list[NoteItem]
    assessment: list[NoteItem]
    plan: list[NoteItem]


class Warning(TypedDict):
    """A guardrail finding about one note item (or, for ``injection``, a segment)."""

    note_item: Annotated[str | None, Field(description="The item's id; null for session-level findings.")]
    kind: Annotated[str, Field(description="unsupported, contradicted, medication, dose, unit, frequency, "
                                           "duration, laterality, number, dose_limit, allergy, injection, "
                                           "checks_failed.")]
    message: str
    evidence: Annotated[list[str], Field(description="Ids of the segments the finding rests on.")]


class ChunkCounts(TypedDict):
    received: int
    processed: int
    missing: Annotated[list[int], Field(description="Sequence numbers not yet received below the highest one.")]
    failed: Annotated[list[int], Field(description="Chunks that failed for good and were skipped.")]


class SessionStateDoc(TypedDict):
    """``GET /v1/sessions/{sid}``: the whole state of one session."""

    session_id: str
    status: SessionStatus
    created_at: float
    updated_at: float
    channels: dict[str, Role] | None
    chunks: ChunkCounts
    segments: list[Segment]
    note_version: Annotated[int, Field(description="0 until the first note.")]
    note: Note | None
    warnings: Annotated[list[Warning], Field(description="Findings about note version warnings_version.")]
    warnings_version: int
    last_event_id: Annotated[int, Field(description="Resume the event stream after this id.")]


class SessionSummaryDoc(TypedDict):
    """One row of ``GET /v1/sessions``."""

    session_id: str
    status: SessionStatus
    created_at: float
    updated_at: float
    segments: int


class RoleLabels(TypedDict):
    """What role labelling returns: the new segments with roles (possibly split where the
    speaker changes) and revised roles of earlier segments."""

    segments: list[dict[str, Any]]
    revisions: dict[str, RoleUpdate]


class WrittenNote(TypedDict):
    """What the note writer returns: the note and how it was made (counts, timings)."""

    note: Note
    stats: dict[str, Any]


class FeedbackSubmission(TypedDict):
    """One clinician judgement as the ingress hands it to the flywheel: already masked and
    pseudonymised (``flywheel.records.Feedback`` is built from exactly these fields)."""

    feedback_id: str
    session: Annotated[str, Field(description="Pseudonym of the session (HMAC).")]
    clinician: Annotated[str, Field(description="Pseudonym of the clinician (HMAC).")]
    action: Literal["accept", "edit", "reject"]
    note_version: int
    generated_note: Note
    segments: Annotated[list[dict[str, Any]], Field(description="The masked transcript: id, text, role.")]
    received_at: float
    final_note: Note | None
    reason: str | None
    model_id: str | None
    prompt_version: str | None
    config: dict[str, Any]


def empty_note() -> Note:
    return {"subjective": [], "objective": [], "assessment": [], "plan": []}


# -- the event catalogue ------------------------------------------------------------------------

class SessionCreated(TypedDict):
    channels: dict[str, Role] | None


class ChunkReceived(TypedDict):
    seq: int
    sha256: str
    size: int
    content_type: str
    duration_s: float
    channels: int


class ChunkProcessed(TypedDict):
    seq: int
    offset_s: Annotated[float, Field(description="Where the chunk starts in the session's audio.")]
    cursor: Annotated[float, Field(description="Audio before this time is committed to segments.")]
    segments: Annotated[list[Segment], Field(description="New committed segments.")]
    role_updates: NotRequired[dict[str, RoleUpdate]]


class WordsTentative(TypedDict):
    seq: Annotated[int, Field(description="The chunk whose processing decoded these words.")]
    cursor: Annotated[float, Field(description="Audio before this time is committed; these words come after it.")]
    text: Annotated[str, Field(description="Masked text of the words ('' when none are waiting).")]
    words: list[Word]


class ChunkFailed(TypedDict):
    seq: int
    offset_s: float
    reason: Annotated[str, Field(description="The error type (never its message).")]


class BatchReceived(TypedDict):
    batch: int
    count: int
    bytes: NotRequired[int]  # size of the stored raw batch (counted by the per-clinician upload quota)


class BatchProcessed(TypedDict):
    batch: int
    segments: list[Segment]
    role_updates: NotRequired[dict[str, RoleUpdate]]


class Empty(TypedDict):
    pass


class ChunksSkipped(TypedDict):
    seqs: Annotated[list[int], Field(description="Chunks given up on after finish.")]
    next_seq: int


class AsrFlushed(TypedDict):
    segments: list[Segment]
    role_updates: NotRequired[dict[str, RoleUpdate]]


class RoleCorrected(TypedDict):
    segment: str
    role: Role


class NoteUpdated(TypedDict):
    version: int
    basis: Annotated[int, Field(description="The transcript revision the note was written from.")]
    final: bool
    note: Note
    stats: dict[str, Any]
    source: NotRequired[Literal["model", "clinician"]]


class NoteFailed(TypedDict):
    basis: int
    reason: str


class WarningsUpdated(TypedDict):
    note_version: int
    warnings: list[Warning]


class FeedbackRecorded(TypedDict):
    feedback_id: str
    action: Literal["accept", "edit", "reject"]
    note_version: int


class Deleted(TypedDict):
    session_id: str


#: Every event type with the model of its ``data`` and when it is sent.
EVENT_DATA: dict[str, tuple[type, str]] = {
    "session_created": (SessionCreated, "The session exists."),
    "chunk_received": (ChunkReceived, "An audio chunk is stored durably (the 202 was sent)."),
    "chunk_processed": (ChunkProcessed, "A chunk was transcribed, masked and labelled; new segments."),
    "words_tentative": (WordsTentative, "Words decoded after the cursor that wait for more audio (masked). They "
                        "replace any earlier tentative words; committed segments of later events replace them. "
                        "Dropped from the journal when the session finishes."),
    "chunk_failed": (ChunkFailed, "A chunk failed for good and was skipped."),
    "batch_received": (BatchReceived, "A batch of text segments is stored durably."),
    "batch_processed": (BatchProcessed, "A text batch was masked and labelled; new segments."),
    "finish_requested": (Empty, "POST .../finish was received."),
    "chunks_skipped": (ChunksSkipped, "Missing chunks were given up on after finish."),
    "asr_flushed": (AsrFlushed, "The last words of the audio were committed after finish."),
    "role_corrected": (RoleCorrected, "A clinician set a segment's role (PATCH)."),
    "note_updated": (NoteUpdated, "A new note version (a draft, the final note, or the clinician's)."),
    "note_failed": (NoteFailed, "The final note could not be written; the last draft stays."),
    "warnings_updated": (WarningsUpdated, "Guardrail findings for a note version."),
    "feedback_recorded": (FeedbackRecorded, "A clinician's accept, edit or reject is durable."),
    "finished": (Empty, "The session is finished; the stream ends after this event."),
    "deleted": (Deleted, "Sent on the stream (never journalled) when the session is deleted."),
}


class Event(TypedDict):
    """One server-sent event: ``id`` increases, ``type`` names the catalogue entry, ``ts`` is Unix time."""

    id: int
    type: str
    ts: float
    data: dict[str, Any]


class EventBatch(TypedDict):
    """A long-poll's answer: events after the cursor, and whether the stream is complete."""

    events: list[Event]
    finished: bool


_ADAPTERS: dict[str, TypeAdapter] = {}


def validate_event(event: dict[str, Any]) -> None:
    """Raise ``ValueError`` unless ``event`` (as streamed) matches the catalogue."""
    kind = event.get("type")
    if kind not in EVENT_DATA:
        raise ValueError(f"unknown event type {kind!r}")
    TypeAdapter(Event).validate_python(event)
    adapter = _ADAPTERS.setdefault(kind, TypeAdapter(EVENT_DATA[kind][0]))
    adapter.validate_python(event["data"], strict=False)
    extra = set(event["data"]) - set(EVENT_DATA[kind][0].__annotations__)
    if extra:
        raise ValueError(f"{kind} carries undocumented fields {sorted(extra)}")


def event_catalogue_schema(ref_prefix: str = "#/components/schemas/") -> tuple[dict[str, Any], dict[str, Any]]:
    """``(catalogue, definitions)``: per event type its description and data schema reference, and
    the JSON Schema definitions those references point at (for ``components.schemas``)."""
    definitions: dict[str, Any] = {}
    catalogue: dict[str, Any] = {}
    for kind, (model, description) in EVENT_DATA.items():
        schema = TypeAdapter(model).json_schema(ref_template=ref_prefix + "{model}")
        for name, sub in schema.pop("$defs", {}).items():
            definitions.setdefault(name, sub)
        name = f"Event_{kind}"
        schema["title"] = name
        definitions[name] = schema
        catalogue[kind] = {"description": description, "data": {"$ref": ref_prefix + name}}
    return catalogue, definitions
