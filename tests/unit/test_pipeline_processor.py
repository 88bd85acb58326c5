"""The processing loop without Ray: real store and streaming policy, fake engines.

Every second of test audio carries its own index in the sample values; the fake
ASR "hears" one word per second, named by that index, so a lost or duplicated
word at a chunk boundary shows up as a wrong word sequence.
"""
from __future__ import annotations

import asyncio
import io
import wave

import numpy as np

from bench.harness.fakes.local_store import RecordingStore
from serve_app.config import AsrConfig, PipelineConfig
from serve_app.engines.asr.protocol import AsrSegment, Word
from serve_app.pipeline.processor import SessionProcessor
from serve_app.sessions.disk_journal import DiskJournal
from serve_app.sessions.spec import StoreSpec
from serve_app.sessions.store import SessionStore

RATE = 16000


class FakeAsr:
    async def transcribe(self, samples):
        words = []
        for k in range(len(samples) // RATE):
            idx = round(samples[k * RATE + RATE // 2] * 32768 / 100)
            words.append(Word(f" w{idx}", k + 0.2, k + 0.8))
        partial = len(samples) % RATE
        if partial > RATE // 2:  # a word cut by the chunk boundary is misheard
            words.append(Word(" cut", len(samples) // RATE + 0.2, len(samples) / RATE))
        return [AsrSegment(w.start, w.end, w.text.strip(), (w,)) for w in words]


class FakePii:
    async def mask_segments(self, segments, names):
        return segments, {}


class FlakyRoles:
    """Fails every other call; otherwise labels new segments and any unlabelled earlier ones."""

    def __init__(self):
        self.calls = 0
        self.audio_shapes = []

    async def label(self, context, new, samples, offset_s, channels):
        self.calls += 1
        if self.calls % 2:
            raise RuntimeError("roles replica restarting")
        self.audio_shapes.append(None if samples is None else samples.shape[0])
        labelled = [{**s, "role": "doctor", "role_confidence": 0.9, "role_source": "model"} for s in new]
        revisions = {c["id"]: {"role": "patient", "role_confidence": 0.8, "role_source": "model"}
                     for c in context if c.get("role") is None}
        return {"segments": labelled, "revisions": revisions}


def _chunked(audio, seconds=2.5):
    """Self-contained 16-bit mono WAV chunks of ``seconds`` each."""
    chunks = []
    for start in range(0, len(audio), int(seconds * RATE)):
        buf = io.BytesIO()
        with wave.open(buf, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(RATE)
            w.writeframes(audio[start:start + int(seconds * RATE)].tobytes())
        chunks.append(buf.getvalue())
    return chunks


def _run(store, processor, sid, chunks, order) -> None:
    """Put the chunks in ``order``, processing after each, then finish and drain."""
    async def run():
        for seq in order:
            store.api.put_chunk("a", sid, seq, chunks[seq], "audio/wav", 2.5, 1)
            while await processor.step(sid):
                pass
        store.api.request_finish("a", sid)
        while await processor.step(sid):
            pass

    asyncio.run(run())


def test_a_failing_roles_service_loses_no_segment_and_later_commits_label_them(tmp_path):
    store = SessionStore(DiskJournal(tmp_path), StoreSpec(finish_grace_s=0, notes=False))
    roles = FlakyRoles()
    processor = SessionProcessor(RecordingStore(store), FakeAsr(), FakePii(), AsrConfig(holdback_s=1.0),
                                 PipelineConfig(), roles=roles)
    sid = store.api.create_session("a")["session_id"]
    chunks = _chunked(np.concatenate([np.full(RATE, k * 100, dtype="<i2") for k in range(10)]))
    _run(store, processor, sid, chunks, range(len(chunks)))
    segments = store.api.get_state("a", sid)["segments"]
    assert [w["text"].strip() for s in segments for w in s["words"]] == [f"w{k}" for k in range(10)]
    assert all(s["role"] in ("doctor", "patient") for s in segments[:-1])
    assert "patient" in {s["role"] for s in segments}  # unlabelled after a failure, revised later
    assert roles.audio_shapes and set(roles.audio_shapes) == {1}  # the audio went along, (channels, n)


def test_chunks_shuffled_give_every_word_once_and_audio_is_fetched_once(tmp_path):
    store = SessionStore(DiskJournal(tmp_path), StoreSpec(finish_grace_s=0))
    client = RecordingStore(store)
    processor = SessionProcessor(client, FakeAsr(), FakePii(), AsrConfig(holdback_s=1.0, context_s=3.0),
                                 PipelineConfig())
    sid = store.api.create_session("a")["session_id"]
    # 2.5 s chunks so boundaries fall inside words
    chunks = _chunked(np.concatenate([np.full(RATE, k * 100, dtype="<i2") for k in range(20)]))
    _run(store, processor, sid, chunks, [3, 0, 1, 5, 2, 4, 7, 6])
    state = store.api.get_state("a", sid)
    assert state["status"] == "finished"
    words = [w["text"].strip() for s in state["segments"] for w in s["words"]]
    assert words == [f"w{k}" for k in range(20)]
    assert sorted(client.fetched) == list(range(8))  # each chunk's audio crossed once
