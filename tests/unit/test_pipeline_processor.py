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
    """Hears the test's tone audio as words: each run of one value is a word (its value / 100), with
    0.2 s of "silence" decoded at either end; a run cut short by the buffer's end is misheard as
    " cut" when over half a second is there, and not heard at all when less is."""

    async def transcribe(self, samples):
        idx = np.round(np.asarray(samples) * 32768 / 100).astype(int)
        edges = [0, *(np.flatnonzero(np.diff(idx)) + 1).tolist(), len(idx)]
        words = []
        for a, b in zip(edges, edges[1:]):
            start, end, full = a / RATE, b / RATE, b - a >= RATE - 1
            if full or a == 0:  # a whole word, or the end of one the buffer starts in
                if end - start > 0.5:
                    words.append(Word(f" w{idx[a]}", max(start, end - 0.8), end - 0.2))
            elif b == len(idx) and end - start > 0.5:
                words.append(Word(" cut", start + 0.2, end))
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
            await _drain(processor, sid)
        store.api.request_finish("a", sid)
        await _drain(processor, sid)

    asyncio.run(run())


async def _drain(processor, sid) -> None:
    """Step ``sid`` until it has nothing left to do now."""
    while await processor.step(sid):
        pass


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


def _twenty_words(tmp_path):
    """A store, its recording client, a processor and a session, and 2.5 s chunks of 20 one-second words
    (so chunk boundaries fall inside words)."""
    store = SessionStore(DiskJournal(tmp_path), StoreSpec(finish_grace_s=0))
    client = RecordingStore(store)
    processor = SessionProcessor(client, FakeAsr(), FakePii(), AsrConfig(holdback_s=1.0, context_s=3.0),
                                 PipelineConfig())
    sid = store.api.create_session("a")["session_id"]
    chunks = _chunked(np.concatenate([np.full(RATE, k * 100, dtype="<i2") for k in range(20)]))
    return store, client, processor, sid, chunks


def test_chunks_shuffled_give_every_word_once_and_audio_is_fetched_once(tmp_path):
    store, client, processor, sid, chunks = _twenty_words(tmp_path)
    _run(store, processor, sid, chunks, [3, 0, 1, 5, 2, 4, 7, 6])
    state = store.api.get_state("a", sid)
    assert state["status"] == "finished"
    words = [w["text"].strip() for s in state["segments"] for w in s["words"]]
    assert words == [f"w{k}" for k in range(20)]
    assert sorted(client.fetched) == list(range(8))  # each chunk's audio crossed once


class OutageAsr(FakeAsr):
    """Raises ``error`` for the first ``failures`` calls (an outage, or a bad input for ever)."""

    def __init__(self, error: Exception, failures: int):
        self.error, self.failures = error, failures

    async def transcribe(self, samples):
        if self.failures > 0:
            self.failures -= 1
            raise self.error
        return await super().transcribe(samples)


def _run_through_failures(store, processor, sid, chunks) -> None:
    async def run():
        for seq in range(len(chunks)):
            store.api.put_chunk("a", sid, seq, chunks[seq], "audio/wav", 2.5, 1)
        store.api.request_finish("a", sid)
        for _ in range(50):  # the periodic scan retrying after each failure
            try:
                while await processor.step(sid):
                    pass
                return
            except Exception:  # noqa: BLE001 - a failed step is retried by the next scan
                continue

    asyncio.run(run())


def test_an_infrastructure_outage_never_costs_a_chunk(tmp_path):
    """Ten failures in a row (a store or ASR restart, EMFILE) is more than max_attempts (3), yet no
    acknowledged chunk is given up: only the chunk's own faults count (review M9)."""
    store = SessionStore(DiskJournal(tmp_path), StoreSpec(finish_grace_s=0, notes=False))
    for error in (OSError(24, "Too many open files"), ConnectionError("replica restarting")):
        asr = OutageAsr(error, failures=10)
        processor = SessionProcessor(RecordingStore(store), asr, FakePii(), AsrConfig(holdback_s=1.0),
                                     PipelineConfig(max_attempts=3))
        sid = store.api.create_session("a")["session_id"]
        chunks = _chunked(np.concatenate([np.full(RATE, k * 100, dtype="<i2") for k in range(5)]))
        _run_through_failures(store, processor, sid, chunks)
        state = store.api.get_state("a", sid)
        assert state["chunks"]["failed"] == [] and state["status"] == "finished"
        assert [w["text"].strip() for s in state["segments"] for w in s["words"]] == [f"w{k}" for k in range(5)]


def test_a_chunk_that_fails_on_its_own_is_given_up_after_max_attempts(tmp_path):
    store = SessionStore(DiskJournal(tmp_path), StoreSpec(finish_grace_s=0, notes=False))
    processor = SessionProcessor(RecordingStore(store), OutageAsr(ValueError("bad input"), failures=3), FakePii(),
                                 AsrConfig(holdback_s=1.0), PipelineConfig(max_attempts=3))
    sid = store.api.create_session("a")["session_id"]
    chunks = _chunked(np.concatenate([np.full(RATE, k * 100, dtype="<i2") for k in range(5)]))
    _run_through_failures(store, processor, sid, chunks)
    assert store.api.get_state("a", sid)["chunks"]["failed"] == [0]


def test_the_decoded_audio_cache_is_bounded_in_bytes_and_eviction_loses_no_word(tmp_path, monkeypatch):
    import serve_app.pipeline.processor as processor_module

    monkeypatch.setattr(processor_module, "_PCM_CACHE_BYTES", 400_000)  # 2.5 chunks of 2.5 s float32 mono
    store, _, processor, sid, chunks = _twenty_words(tmp_path)
    _run(store, processor, sid, chunks, list(range(8)))
    words = [w["text"].strip() for s in store.api.get_state("a", sid)["segments"] for w in s["words"]]
    assert words == [f"w{k}" for k in range(20)]
    assert sum(a.nbytes for a in processor._pcm.values()) <= 400_000


class MaskingPii:
    """Masks the word ``w7`` (as if it were a name) with a session-consistent placeholder."""

    async def mask_segments(self, segments, names):
        out = []
        for seg in segments:
            words = [{**w, "text": " [NAME_1]" if w["text"].strip() == "w7" else w["text"]} for w in seg["words"]]
            out.append({**seg, "words": words, "text": "".join(w["text"] for w in words).strip()})
        return out, ({"[NAME_1]": "w7"} if any("w7" in s["text"] for s in segments) else {})


def _ten_words_masked(tmp_path, **asr):
    """A store, a processor masking ``w7`` as a name, a session and 2 s chunks of ten one-second words."""
    store = SessionStore(DiskJournal(tmp_path), StoreSpec(finish_grace_s=0, notes=False))
    processor = SessionProcessor(RecordingStore(store), FakeAsr(), MaskingPii(),
                                 AsrConfig(**{"holdback_s": 1.0, **asr}), PipelineConfig())
    sid = store.api.create_session("a")["session_id"]
    chunks = _chunked(np.concatenate([np.full(RATE, k * 100, dtype="<i2") for k in range(10)]), seconds=2.0)
    return store, processor, sid, chunks


def test_a_finished_session_keeps_every_word_committed_and_no_tentative_event(tmp_path):
    store, processor, sid, chunks = _ten_words_masked(tmp_path)
    _run(store, processor, sid, chunks, range(len(chunks)))
    state = store.api.get_state("a", sid)
    assert state["status"] == "finished"
    assert [w["text"].strip() for s in state["segments"] for w in s["words"]] == \
        ["w0", "w1", "w2", "w3", "w4", "w5", "w6", "[NAME_1]", "w8", "w9"]
    kinds = [e["type"] for e in asyncio.run(store.api.wait_events("a", sid, 0, 0.0))["events"]]
    assert "chunk_processed" in kinds and "words_tentative" not in kinds  # compacted at finish


def test_tentative_words_come_after_each_chunk_and_hold_no_raw_phi(tmp_path):
    store, processor, sid, chunks = _ten_words_masked(tmp_path, boundary_commit=False)  # the held-back tail alone

    async def stream():
        for seq in range(len(chunks)):
            store.api.put_chunk("a", sid, seq, chunks[seq], "audio/wav", 2.0, 1)
            await _drain(processor, sid)

    asyncio.run(stream())
    batch = asyncio.run(store.api.wait_events("a", sid, 0, 0.0))["events"]
    kinds = [e["type"] for e in batch]
    tentative = [e for e in batch if e["type"] == "words_tentative"]
    assert len(tentative) == len(chunks)
    assert all(kinds[kinds.index("words_tentative", i) - 1] == "chunk_processed"
               for i, k in enumerate(kinds) if k == "words_tentative")
    # a chunk of 2 s with 1 s held back: the word of its last second waits, and is shown at once
    assert [w["text"].strip() for w in tentative[0]["data"]["words"]] == ["w1"]
    assert [w["text"].strip() for w in tentative[3]["data"]["words"]] == ["[NAME_1]"]  # w7, masked
    assert "w7" not in str(tentative)
    committed = [w["text"].strip() for s in store.api.get_state("a", sid)["segments"] for w in s["words"]]
    assert committed == ["w0", "w1", "w2", "w3", "w4", "w5", "w6", "[NAME_1]", "w8"]  # w9 waits for more audio
    assert all(t["data"]["cursor"] <= w["start"] for t in tentative for w in t["data"]["words"])


def test_with_the_boundary_rule_a_chunks_words_commit_in_its_own_pass(tmp_path):
    """Default settings: a word followed by another, or by 0.2 s more audio, commits in the pass of the
    chunk it ends in, held-back tail or not; the held-back tail alone leaves it for the next chunk."""
    first_pass = {}
    for rule in (False, True):
        store, processor, sid, chunks = _ten_words_masked(tmp_path / str(rule), holdback_s=0.3, boundary_commit=rule)

        async def stream(store=store, processor=processor, sid=sid, chunks=chunks):
            store.api.put_chunk("a", sid, 0, chunks[0], "audio/wav", 2.0, 1)
            await _drain(processor, sid)

        asyncio.run(stream())
        first_pass[rule] = [w["text"].strip() for s in store.api.get_state("a", sid)["segments"] for w in s["words"]]
    assert first_pass[False] == ["w0"]  # "w1" ends 0.2 s before the chunk's end, inside the 0.3 s held back
    assert first_pass[True] == ["w0", "w1"]


def test_a_session_that_fell_behind_decodes_its_waiting_chunks_together_and_loses_no_word(tmp_path):
    store = SessionStore(DiskJournal(tmp_path), StoreSpec(finish_grace_s=0, notes=False, max_step_s=6.0))
    client = RecordingStore(store)
    calls = []

    class CountingAsr(FakeAsr):
        async def transcribe(self, samples):
            calls.append(len(samples) / RATE)
            return await super().transcribe(samples)

    processor = SessionProcessor(client, CountingAsr(), FakePii(), AsrConfig(holdback_s=1.0), PipelineConfig())
    sid = store.api.create_session("a")["session_id"]
    chunks = _chunked(np.concatenate([np.full(RATE, k * 100, dtype="<i2") for k in range(20)]), seconds=2.0)

    async def behind():
        for seq in range(len(chunks)):  # all ten chunks arrive before the pipeline gets to them
            store.api.put_chunk("a", sid, seq, chunks[seq], "audio/wav", 2.0, 1)
        assert store.work.next_work(sid).more_seqs == (1, 2)  # 3 x 2 s fit max_step_s
        await _drain(processor, sid)
        store.api.request_finish("a", sid)
        await _drain(processor, sid)

    asyncio.run(behind())
    state = store.api.get_state("a", sid)
    assert state["status"] == "finished" and state["chunks"]["processed"] == 10
    assert [w["text"].strip() for s in state["segments"] for w in s["words"]] == [f"w{k}" for k in range(20)]
    assert len(calls) <= 5  # 4 steps of up to 3 chunks (not 10 of one), then the final flush


def test_a_chunk_step_only_takes_consecutive_received_chunks(tmp_path):
    store = SessionStore(DiskJournal(tmp_path), StoreSpec(finish_grace_s=0, notes=False, max_step_s=20.0))
    sid = store.api.create_session("a")["session_id"]
    chunks = _chunked(np.zeros(RATE * 12, dtype="<i2"), seconds=2.0)
    for seq in (0, 1, 2, 4, 5):  # 3 is missing
        store.api.put_chunk("a", sid, seq, chunks[seq], "audio/wav", 2.0, 1)
    item = store.work.next_work(sid)
    assert (item.seq, item.more_seqs) == (0, (1, 2))
    assert not store.work.commit_chunks(sid, [(1, 2.0), (2, 4.0)], 0.0, [], None)  # not from the next chunk
    assert store.work.commit_chunks(sid, [(0, 0.0), (1, 2.0), (2, 4.0)], 5.0, [], None)
    assert not store.work.commit_chunks(sid, [(0, 0.0), (1, 2.0), (2, 4.0)], 5.0, [], None)  # a repeated step
    state = store.api.get_state("a", sid)
    assert state["chunks"]["processed"] == 3 and state["chunks"]["missing"] == [3]


class OneSegmentAsr(FakeAsr):
    """Hears the same words but as one open segment, as Whisper does mid-sentence."""

    async def transcribe(self, samples):
        words = [w for seg in await super().transcribe(samples) for w in seg.words]
        return [AsrSegment(words[0].start, words[-1].end, "", tuple(words))] if words else []


def test_with_local_agreement_words_two_passes_agree_on_commit_without_a_segment_end(tmp_path):
    committed = {}
    for agree in (False, True):
        store = SessionStore(DiskJournal(tmp_path / str(agree)), StoreSpec(finish_grace_s=0, notes=False))
        processor = SessionProcessor(RecordingStore(store), OneSegmentAsr(), FakePii(),
                                     AsrConfig(holdback_s=1.0, max_tail_s=12.0, local_agreement=agree,
                                               commit_probability=None, boundary_commit=False),  # agreement alone
                                     PipelineConfig())
        sid = store.api.create_session("a")["session_id"]
        chunks = _chunked(np.concatenate([np.full(RATE, k * 100, dtype="<i2") for k in range(8)]), seconds=2.0)

        async def stream(store, processor, sid, chunks):
            for seq in range(3):
                store.api.put_chunk("a", sid, seq, chunks[seq], "audio/wav", 2.0, 1)
                await _drain(processor, sid)

        asyncio.run(stream(store, processor, sid, chunks))
        committed[agree] = [w["text"].strip() for s in store.api.get_state("a", sid)["segments"] for w in s["words"]]
    assert committed[False] == []  # one open segment, a short tail: everything waits
    assert committed[True] == ["w0", "w1", "w2", "w3"]  # heard the same in two passes, before the last second
