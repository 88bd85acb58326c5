"""Microphone audio becomes self-contained WAV chunks, sent with the same bytes on retry."""
from __future__ import annotations

import asyncio
import io
import wave

import httpx
import numpy as np
import pytest

from serve_app.ui.api import ScribeApi
from serve_app.ui.recorder import ChunkBuffer, ChunkSender, send_chunk, split_recording, wav_bytes
from serve_app.ui.view import ChunkLedger

pytestmark = pytest.mark.unit


def _frames(data: bytes) -> tuple[int, int]:
    with wave.open(io.BytesIO(data)) as w:
        return w.getframerate(), w.getnframes()


def test_streamed_pieces_are_cut_into_whole_chunks_and_flushed_at_the_end():
    buffer = ChunkBuffer(chunk_s=1.0)
    for _ in range(5):  # 5 x 0.5 s at 48 kHz, float32 stereo as a browser may send
        buffer.add(48000, np.zeros((24000, 2), dtype=np.float32))
    chunks = buffer.take()
    assert [_frames(c) for c in chunks] == [(48000, 48000), (48000, 48000)]
    assert buffer.take() == []
    last = buffer.take(flush=True)
    assert [_frames(c) for c in last] == [(48000, 24000)]
    assert buffer.total_s == pytest.approx(2.5)


def test_an_upload_is_split_into_chunks_the_api_accepts():
    audio = wav_bytes(np.zeros(16000 * 9, dtype=np.int16), 16000)
    chunks = split_recording(audio, "audio/wav", chunk_s=4.0)
    assert [_frames(c)[1] for c in chunks] == [64000, 64000, 16000]


def test_a_failed_put_is_retried_with_the_same_bytes_and_a_refusal_is_recorded():
    seen: list[tuple[str, bytes]] = []
    answers = iter([503, 503, 202, 409])

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.path, request.content))
        status = next(answers)
        if status == 202:
            return httpx.Response(202, json={"seq": 0})
        return httpx.Response(status, json={"error": {"code": "overloaded" if status == 503 else "chunk_conflict",
                                                      "message": "m"}})

    api = ScribeApi("http://scribe", "tok", transport=httpx.MockTransport(handler))
    ledger = ChunkLedger()
    asyncio.run(send_chunk(api, "sid", ledger, 0, b"RIFF-chunk-0", backoff_s=0.0))
    assert [s for s in seen] == [("/v1/sessions/sid/audio/0", b"RIFF-chunk-0")] * 3
    assert ledger.acknowledged == {0} and ledger.pending == {} and ledger.failed == {}
    asyncio.run(send_chunk(api, "sid", ledger, 1, b"RIFF-chunk-1", backoff_s=0.0))
    assert ledger.failed == {1: "chunk_conflict"} and 1 not in ledger.acknowledged


def test_the_background_sender_keeps_order_and_waits_out_a_busy_service():
    puts: list[int] = []
    busy = {1: 2}  # chunk 1 answers 503 twice

    def handler(request: httpx.Request) -> httpx.Response:
        seq = int(request.url.path.rsplit("/", 1)[1])
        puts.append(seq)
        if busy.get(seq):
            busy[seq] -= 1
            return httpx.Response(503, json={"error": {"code": "overloaded", "message": "busy"}})
        return httpx.Response(202, json={"seq": seq})

    async def run():
        ledger = ChunkLedger()
        sender = ChunkSender(ScribeApi("http://scribe", "tok", transport=httpx.MockTransport(handler)), "sid", ledger,
                             backoff_s=0.0)
        assert [sender.submit(b"a"), sender.submit(b"b"), sender.submit(b"c")] == [0, 1, 2]
        await sender.drain()
        return ledger

    ledger = asyncio.run(run())
    assert puts == [0, 1, 1, 1, 2]
    assert ledger.acknowledged == {0, 1, 2} and ledger.pending == {} and ledger.failed == {}
