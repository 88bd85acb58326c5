"""Session-store round trips per audio chunk, counted by the typed store client.

    python -m bench.perf.store_calls

A session of 2 s chunks goes through the real ingress service (ownership check, once per session;
decoding, durable put) and the real session processor (ASR, PII and roles fakes,
notes off) against a local store; every store call of both is counted.  Counts
are deterministic, so this is a figure, not a timing.
"""
from __future__ import annotations

import asyncio
import collections
import io
import json
import tempfile
import wave

import numpy as np

from serve_app.config import AsrConfig, LimitsConfig, PipelineConfig
from serve_app.engines.asr.protocol import AsrSegment, Word
from serve_app.engines.audio import TARGET_RATE
from serve_app.ingress.service import ScribeService
from serve_app.pipeline.processor import SessionProcessor
from serve_app.sessions.client import LocalTransport, StoreClient
from serve_app.sessions.disk_journal import DiskJournal
from serve_app.sessions.spec import StoreSpec
from serve_app.sessions.store import SessionStore

__all__ = ["count_store_calls"]


class _Asr:
    """Hears one word per second of audio (the count needs no model)."""

    async def transcribe(self, samples):
        words = [Word(f" w{k}", k + 0.2, k + 0.8) for k in range(len(samples) // TARGET_RATE)]
        return [AsrSegment(w.start, w.end, w.text.strip(), (w,)) for w in words]


def _wav(seconds: float) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(TARGET_RATE)
        w.writeframes(np.full(int(seconds * TARGET_RATE), 1000, dtype="<i2").tobytes())
    return buf.getvalue()


class _Pii:
    async def mask_segments(self, segments, names):
        return segments, {}


class _Roles:
    async def label(self, context, new, samples, offset_s, channels):
        return {"segments": [{**s, "role": "patient", "role_confidence": 0.9} for s in new], "revisions": {}}


def count_store_calls(chunks: int = 20) -> dict:
    """Store calls per chunk by caller (ingress, pipeline) and by method, in steady state."""
    store = SessionStore(DiskJournal(tempfile.mkdtemp(prefix="store-calls-")), StoreSpec(finish_grace_s=0, notes=False))
    ingress_client, pipeline_client = StoreClient(LocalTransport(store)), StoreClient(LocalTransport(store))
    service = ScribeService(ingress_client, lambda sid: None, LimitsConfig(), {})
    processor = SessionProcessor(pipeline_client, _Asr(), _Pii(), AsrConfig(), PipelineConfig(),
                                 roles=_Roles())
    sid = store.api.create_session("a")["session_id"]

    async def run():
        for seq in range(chunks):
            await service.put_chunk("a", sid, seq, _wav(2.0), "audio/wav")
            while await processor.step(sid):
                pass

    asyncio.run(run())
    per_chunk = {name: round(n / chunks, 2) for name, n in
                 (collections.Counter(ingress_client.calls) + collections.Counter(pipeline_client.calls)).items()}
    return {"chunks": chunks, "ingress": sum(ingress_client.calls.values()) / chunks,
            "pipeline": sum(pipeline_client.calls.values()) / chunks, "by_method": per_chunk}


if __name__ == "__main__":
    print(json.dumps(count_store_calls(), indent=1))
