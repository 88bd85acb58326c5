"""The per-session processing loop: chunks -> ASR -> PII -> roles -> segments in order.

:class:`SessionProcessor` holds no durable state.  It asks the store what the
next step of a session is (:func:`serve_app.sessions.model.next_work`), does it
with the ASR, PII and Roles services, and commits the result; commits are idempotent,
so a step repeated after a crash or by a second worker changes nothing.
The services are injected (Serve handles in production, fakes in unit tests).
"""
from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any, Sequence

import numpy as np

from serve_app.clients import AsrClient, PiiClient, RolesClient
from serve_app.config import AsrConfig, PipelineConfig
from serve_app.engines.asr.protocol import AsrSegment, Word, segment_from_words
from serve_app.engines.asr.streaming import boundary_rule, decide_commit, segments_after
from serve_app.engines.audio import TARGET_RATE, decode_audio
from serve_app.faults import is_infrastructure
from serve_app.pipeline.note_checks import NoteChecks
from serve_app.pipeline.note_updater import NoteUpdater
from serve_app.pipeline.tasks import Attempts, PerSessionTasks
from serve_app.sessions.client import StoreClient
from serve_app.sessions.model import WorkItem

__all__ = ["SessionProcessor"]

log = logging.getLogger("scribe.pipeline")
_PCM_CACHE_BYTES = 64 << 20  # decoded audio kept for context and tails (review L1: bytes, not a count)


def _asr_segment_dict(seg: AsrSegment) -> dict[str, Any]:
    return {
        "start": round(seg.start, 3),
        "end": round(seg.end, 3),
        "text": seg.text,
        "words": [{"text": w.text, "start": round(w.start, 3), "end": round(w.end, 3)} for w in seg.words],
        "role": None,
        "role_confidence": None,
        "source": "asr",
    }


def _mono(samples: np.ndarray) -> np.ndarray:
    return samples[0] if samples.shape[0] == 1 else np.clip(samples.sum(axis=0), -1.0, 1.0).astype(np.float32)


def _buffer(chunks: Sequence[dict], start: float) -> np.ndarray:
    """Samples ``(channels, n)`` from session time ``start`` to the end of the last chunk
    (mixed down to one channel if the chunks disagree on their channel count)."""
    arrays = [c["samples"] for c in chunks]
    if len({a.shape[0] for a in arrays}) > 1:
        arrays = [_mono(a)[None, :] for a in arrays]
    parts = []
    for c, a in zip(chunks, arrays):
        skip = int(round(max(0.0, start - c["offset_s"]) * TARGET_RATE))
        parts.append(a[:, skip:])
    return np.concatenate(parts, axis=1) if parts else np.zeros((1, 0), dtype=np.float32)


class SessionProcessor:
    """Drives sessions to completion, one step at a time, at most one loop per session.

    Args:
        store: the session store (typed client; a local store in unit tests).
        asr, pii, roles: the engine deployments' clients (or fakes with the same methods);
            ``roles`` None leaves roles the client did not give empty.
        notes: the note updater, or None when the graph writes no notes.
        checks: the note checks, or None when notes are not checked.
    """

    def __init__(self, store: StoreClient, asr: AsrClient, pii: PiiClient,
                 asr_config: AsrConfig, config: PipelineConfig, notes: NoteUpdater | None = None,
                 roles: RolesClient | None = None, checks: NoteChecks | None = None):
        self._store, self._asr, self._pii, self._roles = store, asr, pii, roles
        self._checks = checks
        self._notes = notes
        self._asr_config = asr_config
        self._config = config
        self._loops = PerSessionTasks(self.step, "pipeline loop", log)
        self._attempts = Attempts(config.max_attempts, log, is_infrastructure)
        self._dispatch = {
            "batch": self._do_batch, "chunk": self._do_chunk, "flush": self._do_flush,
            "skip_missing": lambda sid, item: self._store.work.skip_missing(sid),
            "final_note": self._do_final_note, "final_checks": self._do_final_checks,
            "finish": lambda sid, item: self._store.work.mark_finished(sid),
        }
        # Decoded samples (channels, n) of recent chunks: a chunk is decoded again as
        # left context and tail of the next steps, and chunks never change once stored.
        self._pcm: OrderedDict[tuple[str, int], np.ndarray] = OrderedDict()
        # Each session's last uncommitted words and the cursor they follow (asr.local_agreement): in
        # memory only; a step that finds none (a restart, another replica) commits by the other rules.
        self._hypotheses: dict[str, tuple[float, list[Word]]] = {}

    def forget(self, sid: str) -> None:
        """Drop ``sid``'s decoded audio from the cache (the session was erased)."""
        for key in [k for k in self._pcm if k[0] == sid]:
            del self._pcm[key]
        self._hypotheses.pop(sid, None)

    def kick(self, sid: str) -> None:
        """Make sure a loop is working on ``sid`` (starts one or asks it to look again)."""
        self._loops.kick(sid)

    async def step(self, sid: str) -> bool:
        """Do the next step of ``sid``; returns False when there is nothing to do now."""
        item = await self._store.work.next_work(sid)
        if item.kind == "gone":  # erased: whichever replica held its audio drops it here too
            self.forget(sid)
            return False
        action = self._dispatch.get(item.kind)
        if action is None:  # wait, idle
            return False
        await action(sid, item)
        if item.kind in ("final_note", "final_checks", "finish"):  # JSON logs carry the session's pseudonym
            log.info("session step done: %s", item.kind)
        if item.kind in ("batch", "chunk", "flush") and self._notes is not None:
            self._notes.kick(sid)
        return True

    async def _do_final_note(self, sid: str, item: WorkItem) -> None:
        basis = item.basis
        if self._notes is None:  # store and pipeline disagree on notes: finish without one
            await self._store.work.note_failed(sid, basis, "notes_disabled")
            return
        notes = self._notes  # final-note attempts are counted per input revision
        await self._attempts.run(("note", sid, basis), "final note", lambda: notes.final(sid, basis),
                                 lambda reason: self._store.work.note_failed(sid, basis, reason))

    async def _do_final_checks(self, sid: str, item: WorkItem) -> None:
        version = item.note_version
        if self._checks is None:  # store and pipeline disagree on checks: finish without them
            await self._store.notes.commit_warnings(sid, version, [])
            return
        checks = self._checks
        await self._attempts.run(("checks", sid, version), "final note checks", lambda: checks.run(sid),
                                 lambda reason: checks.give_up(sid, reason))

    async def _chunks(self, sid: str, seqs: list[int]) -> list[dict]:
        """Chunk metadata with decoded ``samples``; only uncached audio crosses from the store."""
        fetch = [s for s in seqs if (sid, s) not in self._pcm]
        chunks = await self._store.work.chunk_info(sid, seqs, with_data=fetch)
        for c in chunks:
            key = (sid, c["seq"])
            if key not in self._pcm:
                self._pcm[key] = decode_audio(c.pop("data"), c["content_type"]).samples
            self._pcm.move_to_end(key)
            c["samples"] = self._pcm[key]
        held = sum(a.nbytes for a in self._pcm.values())  # a few hundred entries at most
        while held > _PCM_CACHE_BYTES and len(self._pcm) > len(chunks):  # never the chunks in hand
            held -= self._pcm.popitem(last=False)[1].nbytes
        return chunks

    async def _transcribe(self, sid: str, chunks: list[dict], start: float, end: float, final: bool):
        """Decode ``[start - context, end)`` and decide what to commit after ``start``.

        The left context (already committed audio) lets Whisper decode the words
        just after ``start`` as it would inside the whole recording; words whose
        midpoint lies before ``start`` were committed earlier and are dropped.
        """
        first = min((c["offset_s"] for c in chunks), default=start)
        buffer_start = max(first, start - self._asr_config.context_s)
        audio = _buffer(chunks, buffer_start)
        raw = await self._asr.transcribe(_mono(audio))
        segments = segments_after(raw, buffer_start, start)
        agree = self._asr_config.local_agreement
        cursor, previous = self._hypotheses.pop(sid, (None, None))
        decision = decide_commit(segments, start, end, self._asr_config.holdback_s, self._asr_config.max_tail_s,
                                 final, previous=previous if cursor == start else None,
                                 confident=self._asr_config.commit_probability,
                                 boundary=boundary_rule(self._asr_config))
        if agree and decision.pending and not final:  # kept only when the policy uses them
            self._hypotheses[sid] = (decision.cursor, list(decision.pending))
        return decision, audio, buffer_start

    async def _mask(self, sid: str, segments: list[dict]) -> tuple[list[dict], dict]:
        if not segments:
            return [], {}
        names = await self._store.work.names(sid)
        return await self._pii.mask_segments(segments, names)

    async def _label(self, sid: str, segments: list[dict], audio: np.ndarray | None = None,
                     offset_s: float = 0.0) -> tuple[list[dict], dict]:
        """Roles for new masked segments (split where the speaker changes) and revised
        roles of earlier ones.  If the Roles service fails the segments are committed
        unlabelled (never lost); the next commit labels them."""
        if self._roles is None or not segments:
            return segments, {}
        try:
            context = await self._store.work.role_context(sid)
            result = await self._roles.label(context["segments"], segments, audio, offset_s, context["channels"])
            return result["segments"], result["revisions"]
        except Exception as exc:
            log.warning("role labelling failed (%s); committing segments unlabelled", type(exc).__name__)
            return segments, {}

    async def _do_chunk(self, sid: str, item: WorkItem) -> None:
        """Chunk ``item.seq`` (and ``item.more_seqs``, waiting right after it) in one ASR pass."""
        seq, offset = item.seq, item.offset

        async def process() -> None:
            steps = [seq, *item.more_seqs]
            chunks = await self._chunks(sid, list(item.tail_seqs) + steps)
            new = chunks[len(chunks) - len(steps):]
            at = offset
            for c in new:  # the new chunks follow each other from the end of the audio so far
                c["offset_s"], at = at, at + c["duration_s"]
            start = min(item.cursor, offset)
            end = at
            decision, audio, audio_start = await self._transcribe(sid, chunks, start, end, final=False)
            committed = [_asr_segment_dict(s) for s in decision.segments]
            pending = [_asr_segment_dict(segment_from_words(decision.pending))] if decision.pending else []
            masked, delta = await self._mask(sid, committed + pending)  # one map: the same placeholders
            tentative = masked[len(committed):]
            labelled, revisions = await self._label(sid, masked[:len(committed)], audio, audio_start)
            await self._store.work.commit_chunks(
                sid, [(c["seq"], c["offset_s"]) for c in new], decision.cursor, labelled, delta,
                role_updates=revisions, tentative={"text": tentative[0]["text"] if tentative else "",
                                                   "words": tentative[0]["words"] if tentative else []})

        await self._attempts.run(("chunk", sid, seq), f"chunk {seq}", process,
                                 lambda reason: self._store.work.commit_chunk(sid, seq, offset, offset, [], None,
                                                                              failed=reason))

    async def _do_flush(self, sid: str, item: WorkItem) -> None:
        chunks = await self._chunks(sid, list(item.tail_seqs))
        end = chunks[-1]["offset_s"] + chunks[-1]["duration_s"] if chunks else item.cursor
        decision, audio, audio_start = await self._transcribe(sid, chunks, item.cursor, end, final=True)
        masked, delta = await self._mask(sid, [_asr_segment_dict(s) for s in decision.segments])
        labelled, revisions = await self._label(sid, masked, audio, audio_start)
        await self._store.work.commit_flush(sid, labelled, delta, role_updates=revisions)

    async def _do_batch(self, sid: str, item: WorkItem) -> None:
        batch = item.batch
        raw = await self._store.work.batch_segments(sid, batch)
        segments = [
            {"start": s.get("start"), "end": s.get("end"), "text": s["text"], "role": s.get("role"),
             "role_confidence": 1.0 if s.get("role") else None, "role_source": "client" if s.get("role") else None,
             "source": "text"}
            for s in raw
        ]
        masked, delta = await self._mask(sid, segments)
        labelled, revisions = await self._label(sid, masked)
        await self._store.work.commit_batch(sid, batch, labelled, delta, role_updates=revisions)
