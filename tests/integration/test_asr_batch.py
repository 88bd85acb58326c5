"""The batched Whisper decode with the packaged tiny.en model (no Serve): one batched call gives
each buffer the words it gets alone, at a fraction of the cost of a 30 s window per buffer."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from faster_whisper import decode_audio

from bench.harness.data import DEV, librispeech_clips, normalise
from serve_app.config import AsrConfig


@lru_cache(maxsize=1)
def _engines():
    from deployments.asr import build_asr_engine

    cfg = AsrConfig(batched_decode=True)
    return build_asr_engine(cfg.model_copy(update={"window_floor_s": 8.0}), "/tmp"), build_asr_engine(cfg, "/tmp")


def _words(segments) -> list[str]:
    return [normalise(w.text) for s in segments for w in s.words]


def test_a_batch_of_buffers_gives_each_buffer_its_own_words():
    _, windowed = _engines()  # the batched decode over the whole window
    buffers = [decode_audio(str(DEV / c["wav"])) for c in librispeech_clips()]
    alone = [_words(windowed.transcribe(b)) for b in buffers]
    together = [_words(segs) for segs in windowed.transcribe_batch(buffers)]
    assert together == alone and all(alone)
    for buffer, segs in zip(buffers, windowed.transcribe_batch(buffers)):
        times = [(w.start, w.end) for s in segs for w in s.words]
        assert all(0 <= a <= b <= len(buffer) / 16000 + 0.5 for a, b in times)  # in the buffer's own timeline


def test_the_windowed_encoder_hears_what_the_whole_window_hears_on_a_short_clip():
    windowed, whole = _engines()
    clip = librispeech_clips()[0]
    audio = decode_audio(str(DEV / clip["wav"]))
    import jiwer

    ref = normalise(clip["reference"])
    assert jiwer.wer(ref, " ".join(_words(windowed.transcribe(audio)))) <= \
        jiwer.wer(ref, " ".join(_words(whole.transcribe(audio)))) + 0.05


def test_silence_and_empty_buffers_give_no_words_in_a_batch_with_speech():
    windowed, _ = _engines()
    speech = decode_audio(str(DEV / librispeech_clips()[2]["wav"]))
    out = windowed.transcribe_batch([np.zeros(0, np.float32), np.zeros(16000 * 3, np.float32), speech])
    assert out[0] == [] and out[1] == [] and _words(out[2])
