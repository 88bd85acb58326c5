"""Microphone and file audio turned into the API's chunks, and sent without loss.

:class:`ChunkBuffer` collects the pieces the browser streams while the clinician speaks and
cuts them into self-contained WAV files of ``chunk_s`` seconds.  :func:`send_chunk` stores
one chunk with ``PUT .../audio/{seq}`` and retries a failed attempt with the *same bytes*
(the API answers 202 again for a repeat, so a retry can never duplicate audio).
:func:`split_recording` cuts an uploaded recording into chunks the same way.
"""
from __future__ import annotations

import asyncio
import io
import wave

import numpy as np

from serve_app.engines.audio import TARGET_RATE, decode_audio
from serve_app.ui.api import ApiError, ScribeApi
from serve_app.ui.view import ChunkLedger

__all__ = ["ChunkBuffer", "ChunkSender", "wav_bytes", "send_chunk", "split_recording", "content_type_for"]


def _as_int16(samples: np.ndarray) -> np.ndarray:
    """Mono int16 from what a browser stream or a decoder gives (int16/int32/float, mono or stereo)."""
    data = np.asarray(samples)
    if data.ndim == 2:
        data = data.mean(axis=1) if data.shape[1] <= 8 else data.mean(axis=0)
    if np.issubdtype(data.dtype, np.floating):
        return (np.clip(data, -1.0, 1.0) * 32767).astype(np.int16)
    if data.dtype == np.int32:
        return (data >> 16).astype(np.int16)
    return data.astype(np.int16)


def wav_bytes(samples: np.ndarray, rate: int) -> bytes:
    """A complete mono 16-bit WAV file."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(int(rate))
        w.writeframes(_as_int16(samples).tobytes())
    return out.getvalue()


class ChunkBuffer:
    """Accumulates streamed audio; :meth:`take` returns whole ``chunk_s`` WAV files."""

    def __init__(self, chunk_s: float):
        self.chunk_s = chunk_s
        self.rate: int | None = None
        self._pieces: list[np.ndarray] = []
        self.total_s = 0.0

    def add(self, rate: int, samples: np.ndarray) -> None:
        if self.rate is not None and rate != self.rate:
            raise ValueError("sample rate changed mid-recording")
        self.rate = int(rate)
        piece = _as_int16(samples)
        self._pieces.append(piece)
        self.total_s += len(piece) / self.rate

    def take(self, flush: bool = False, min_s: float = 0.2) -> list[bytes]:
        """Full chunks ready to send (and, with ``flush``, the rest if at least ``min_s`` long)."""
        if not self._pieces or self.rate is None:
            return []
        audio = np.concatenate(self._pieces)
        size = int(self.chunk_s * self.rate)
        out = []
        while len(audio) >= size:
            out.append(wav_bytes(audio[:size], self.rate))
            audio = audio[size:]
        if flush and len(audio) >= min_s * self.rate:
            out.append(wav_bytes(audio, self.rate))
            audio = audio[:0]
        self._pieces = [audio] if len(audio) else []
        return out


async def send_chunk(api: ScribeApi, sid: str, ledger: ChunkLedger, seq: int, data: bytes,
                     attempts: int = 5, backoff_s: float = 0.5) -> None:
    """Store chunk ``seq`` (kept in ``ledger.pending`` until acknowledged).

    Retries busy or unreachable answers with the same bytes; a final refusal (409, 413, 415,
    422) or exhausted retries moves it to ``ledger.failed`` with a plain reason, keeping the
    bytes pending so "retry" can send them again."""
    ledger.pending[seq] = data
    ledger.failed.pop(seq, None)
    for attempt in range(attempts):
        try:
            await api.put_audio(sid, seq, data, "audio/wav")
        except ApiError as exc:
            if exc.retryable and attempt + 1 < attempts:
                await asyncio.sleep(backoff_s * 2 ** attempt)
                continue
            ledger.failed[seq] = exc.code
            if not exc.retryable:
                ledger.pending.pop(seq, None)
            return
        ledger.pending.pop(seq, None)
        ledger.acknowledged.add(seq)
        return


class ChunkSender:
    """Sends a session's chunks in order in the background, so the microphone handler returns at
    once (Gradio drops streamed pieces that arrive while the handler is still busy)."""

    def __init__(self, api: ScribeApi, sid: str, ledger: ChunkLedger, backoff_s: float = 0.5):
        self.api, self.sid, self.ledger, self.backoff_s = api, sid, ledger, backoff_s
        self._queue: list[tuple[int, bytes]] = []
        self._task: asyncio.Task | None = None

    def submit(self, data: bytes) -> int:
        """Queue ``data`` as the next chunk; returns its ``seq``."""
        seq = self.ledger.next_seq
        self.ledger.next_seq += 1
        self.ledger.pending[seq] = data
        self._queue.append((seq, data))
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())
        return seq

    async def _run(self) -> None:
        while self._queue:
            seq, data = self._queue.pop(0)
            await send_chunk(self.api, self.sid, self.ledger, seq, data, backoff_s=self.backoff_s)

    async def drain(self) -> None:
        """Wait until every queued chunk is acknowledged or has failed."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)


def content_type_for(path: str) -> str:
    """The API content type of an uploaded file, from its extension."""
    ext = path.rsplit(".", 1)[-1].lower()
    return {"wav": "audio/wav", "flac": "audio/flac", "ogg": "audio/ogg", "opus": "audio/ogg",
            "webm": "audio/webm", "mp3": "audio/mpeg"}.get(ext, "audio/wav")


def split_recording(data: bytes, content_type: str, chunk_s: float) -> list[bytes]:
    """An uploaded recording as WAV chunks of ``chunk_s`` seconds (the API caps one chunk's length).
    Raises the API's own ``UnsupportedMediaType`` / ``InvalidAudio`` for what it cannot read."""
    decoded = decode_audio(data, content_type)
    buffer = ChunkBuffer(chunk_s)
    buffer.add(TARGET_RATE, decoded.mono())
    return buffer.take(flush=True)
