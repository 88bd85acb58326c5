"""The ASR deployment's batching and the windowed encoder's frame count (no Ray, no model)."""
from __future__ import annotations

import asyncio

import numpy as np
import pytest

from deployments.asr import ASR
from serve_app.config import AsrConfig
from serve_app.engines.asr.protocol import AsrSegment, Word
from serve_app.engines.asr.whisper import encoder_frames


class CountingEngine:
    """Hears one word per buffer, its first sample's value; a buffer starting with -1 breaks it."""

    def __init__(self):
        self.calls: list[int] = []

    def _one(self, samples):
        if samples[0] == -1:
            raise ValueError("undecodable buffer")
        return [AsrSegment(0.0, 0.5, f"w{int(samples[0])}", (Word(f" w{int(samples[0])}", 0.0, 0.5),))]

    def transcribe(self, samples):
        return self._one(samples)

    def transcribe_batch(self, batch):
        self.calls.append(len(batch))
        return [self._one(b) for b in batch]


@pytest.fixture(scope="module")
def loop():
    """One event loop for the module: Serve's batch queue binds to the loop it starts on.  At the end
    the queue is dropped again (it cannot be pickled, and later tests deploy the class)."""
    loop = asyncio.new_event_loop()
    yield loop
    lazy = ASR.func_or_class._decode.set_max_batch_size.__self__  # serve.batch's per-method queue holder
    if lazy._queue is not None and lazy._queue._handle_batch_task is not None:
        lazy._queue._handle_batch_task.cancel()
        loop.run_until_complete(asyncio.sleep(0))
    lazy._queue = None
    loop.close()


@pytest.fixture(autouse=True)
def replica_context(monkeypatch):
    """Outside a replica, what serve.batch asks of the replica context."""
    from types import SimpleNamespace

    from ray import serve

    monkeypatch.setattr(serve, "get_replica_context",
                        lambda: SimpleNamespace(_deployment_config=SimpleNamespace(max_ongoing_requests=16)))


def _deployment(engine, **cfg):
    cls = ASR.func_or_class  # the plain class under @serve.deployment
    return cls(AsrConfig(**cfg), "/nonexistent", engine=lambda: engine)


def _buffer(value: float) -> np.ndarray:
    return np.full(1600, value, dtype=np.float32)


def test_concurrent_buffers_are_decoded_in_one_engine_call_and_each_caller_gets_its_own(loop):
    engine = CountingEngine()
    asr = _deployment(engine, batched_decode=True, max_batch_size=8, batch_wait_s=0.05)

    async def run():
        return await asyncio.gather(*(asr.transcribe(_buffer(k)) for k in range(1, 6)))

    results = loop.run_until_complete(run())
    assert [r[0].text for r in results] == ["w1", "w2", "w3", "w4", "w5"]
    assert engine.calls == [5]


def test_batches_are_capped_at_max_batch_size(loop):
    engine = CountingEngine()
    asr = _deployment(engine, batched_decode=True, max_batch_size=2, batch_wait_s=0.05)

    async def run():
        return await asyncio.gather(*(asr.transcribe(_buffer(k)) for k in range(1, 6)))

    assert [r[0].text for r in loop.run_until_complete(run())] == ["w1", "w2", "w3", "w4", "w5"]
    assert max(engine.calls) <= 2 and sum(engine.calls) == 5


def test_one_bad_buffer_fails_only_its_own_caller(loop):
    engine = CountingEngine()
    asr = _deployment(engine, batched_decode=True, max_batch_size=8, batch_wait_s=0.05)

    async def run():
        return await asyncio.gather(asr.transcribe(_buffer(1)), asr.transcribe(_buffer(-1)),
                                    asr.transcribe(_buffer(3)), return_exceptions=True)

    good1, bad, good3 = loop.run_until_complete(run())
    assert good1[0].text == "w1" and good3[0].text == "w3"
    assert isinstance(bad, ValueError)


class SlowEngine(CountingEngine):
    """Takes 50 ms a buffer and records how many buffers it was decoding at once."""

    def __init__(self):
        super().__init__()
        import threading

        self._lock, self.inside, self.most = threading.Lock(), 0, 0

    def transcribe_batch(self, batch):
        import time

        with self._lock:
            self.inside += 1
            self.most = max(self.most, self.inside)
        time.sleep(0.05)
        with self._lock:
            self.inside -= 1
        return super().transcribe_batch(batch)


@pytest.mark.parametrize("parallel", [1, 2])
def test_sequential_decoding_takes_buffers_first_come_first_served_parallel_at_a_time(loop, parallel):
    engine = SlowEngine()
    asr = _deployment(engine, max_batch_size=8, batch_wait_s=0.05, parallel_decodes=parallel)  # not batched
    answered: list[tuple[str, int]] = []  # (words, buffers the engine had started on when they came back)

    async def call(k):
        result = await asr.transcribe(_buffer(k))
        answered.append((result[0].text, len(engine.calls)))
        return result

    async def run():
        return await asyncio.gather(*(call(k) for k in range(1, 7)))

    assert [r[0].text for r in loop.run_until_complete(run())] == [f"w{k}" for k in range(1, 7)]
    assert engine.calls == [1] * 6  # one buffer per engine call, never a batch
    assert engine.most == parallel  # never more than parallel_decodes at once
    assert answered[0][1] < 6  # the first caller had its words before the last buffer was decoded
    if parallel == 1:
        assert [text for text, _ in answered] == [f"w{k}" for k in range(1, 7)]  # first come, first answered


def _padded(content_frames: int, total: int = 3000) -> np.ndarray:
    f = np.zeros((80, total), dtype=np.float32)
    f[:, :content_frames] = -0.5  # a real normalised log-mel column is never all zeros
    return f


@pytest.mark.parametrize("content,floor_s,margin_s,expected", [
    (300, 8.0, 2.0, 800),    # 3 s of audio: the 8 s floor
    (1100, 8.0, 2.0, 1300),  # 11 s: content + 2 s of padding
    (2950, 8.0, 2.0, 3000),  # never beyond Whisper's 30 s
    (1101, 2.0, 0.0, 1102),  # even (the encoder's convolution has stride 2)
    (0, 8.0, 2.0, 800),      # nothing but padding
])
def test_the_encoder_sees_the_content_plus_a_margin_within_floor_and_30_s(content, floor_s, margin_s, expected):
    assert encoder_frames(_padded(content), floor_s, margin_s) == expected


def test_a_batch_is_windowed_by_its_longest_buffer():
    batch = np.stack([_padded(300), _padded(1500)])
    assert encoder_frames(batch, 8.0, 2.0) == 1700
