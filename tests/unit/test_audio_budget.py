"""Untrusted audio: a decompression bomb is stopped as soon as it passes the duration limit, and each
container accepts only its own codecs (review H1, M5)."""
from __future__ import annotations

import io
import re

import numpy as np
import pytest
import soundfile as sf

from serve_app.engines.audio import decode_audio
from serve_app.errors import PayloadTooLarge, UnsupportedMediaType


def _encoded(seconds: float, rate: int, fmt: str, subtype: str) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, np.zeros(int(seconds * rate), dtype=np.float32), rate, format=fmt, subtype=subtype)
    return buffer.getvalue()


def test_a_small_file_that_expands_to_an_hour_is_refused_after_the_limit_not_decoded_whole():
    bomb = _encoded(3600, 8000, "FLAC", "PCM_16")  # an hour of silence
    assert len(bomb) < 300_000
    with pytest.raises(PayloadTooLarge) as refused:
        decode_audio(bomb, "audio/flac", max_seconds=30)
    assert refused.value.code == "chunk_too_long"
    decoded = float(re.search(r"at least ([\d.]+) s", str(refused.value)).group(1))
    assert 30 < decoded < 31  # it stopped at the first frame past the limit


def test_raw_pcm_over_the_limit_is_refused_before_decoding():
    with pytest.raises(PayloadTooLarge):
        decode_audio(b"\x00\x00" * 1000 * 40, "audio/L16;rate=1000;channels=1", max_seconds=30)


@pytest.mark.parametrize("subtype", ["ULAW", "IMA_ADPCM", "MS_ADPCM"])
def test_a_wav_holding_another_codec_is_415(subtype):
    with pytest.raises(UnsupportedMediaType):
        decode_audio(_encoded(1.0, 8000, "WAV", subtype), "audio/wav")


def test_ordinary_chunks_still_decode_within_the_limit():
    audio = decode_audio(_encoded(4.0, 16000, "WAV", "PCM_16"), "audio/wav", max_seconds=30)
    assert abs(audio.duration_s - 4.0) < 0.01
    assert decode_audio(_encoded(4.0, 16000, "FLAC", "PCM_16"), "audio/flac", max_seconds=30).channels == 1
