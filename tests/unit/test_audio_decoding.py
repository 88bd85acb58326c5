"""Decoding of every content type in API.md, and bad input."""
from __future__ import annotations

import io

import av
import numpy as np
import pytest
import soundfile as sf

from serve_app.engines.audio import TARGET_RATE, decode_audio
from serve_app.errors import InvalidAudio, UnsupportedMediaType


def _signal(seconds=1.0, rate=44100, channels=1):
    t = np.arange(int(seconds * rate)) / rate
    mono = 0.3 * np.sin(2 * np.pi * 440 * t)
    return np.stack([mono * (c + 1) / channels for c in range(channels)], axis=1).astype(np.float32)


def _encode(fmt, subtype=None, rate=44100, channels=1, seconds=1.0):
    buf = io.BytesIO()
    sf.write(buf, _signal(seconds, rate, channels), rate, format=fmt, subtype=subtype)
    return buf.getvalue()


def _webm(seconds=1.0, rate=48000):
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="webm") as out:
        stream = out.add_stream("libopus", rate=rate, layout="mono")
        samples = (_signal(seconds, rate)[:, 0] * 32767).astype(np.int16)
        for start in range(0, len(samples), 960):
            frame = av.AudioFrame.from_ndarray(samples[None, start:start + 960], format="s16", layout="mono")
            frame.sample_rate = rate
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()


@pytest.mark.parametrize("content_type,data", [
    ("audio/wav", _encode("WAV", "PCM_16")),
    ("audio/x-wav", _encode("WAV", "PCM_16", rate=8000)),
    ("audio/flac", _encode("FLAC", rate=22050)),
    ("audio/ogg", _encode("OGG", "VORBIS")),
    ("audio/webm", _webm()),
    ("audio/L16;rate=16000;channels=1", (_signal(1.0, 16000)[:, 0] * 32767).astype("<i2").tobytes()),
    ("audio/L16; rate=8000; channels=2", (_signal(1.0, 8000, 2) * 32767).astype("<i2").tobytes()),
])
def test_every_content_type_decodes_to_16k(content_type, data):
    audio = decode_audio(data, content_type)
    assert audio.samples.dtype == np.float32
    assert abs(audio.duration_s - 1.0) < 0.08, audio.duration_s
    assert 0.1 < np.abs(audio.mono()).max() <= 1.0
    # the 440 Hz tone survives resampling: its spectral peak is at 440 Hz
    spectrum = np.abs(np.fft.rfft(audio.mono()))
    peak_hz = np.argmax(spectrum) * TARGET_RATE / len(audio.mono())
    assert abs(peak_hz - 440) < 10


def test_stereo_channels_are_kept():
    audio = decode_audio(_encode("FLAC", channels=2, rate=16000), "audio/flac")
    assert audio.channels == 2
    assert np.abs(audio.samples[1]).max() > np.abs(audio.samples[0]).max() * 1.5


@pytest.mark.parametrize("content_type,data,error", [
    ("audio/wav", b"", InvalidAudio),
    ("audio/wav", b"RIFF....WAVEfmt garbage", InvalidAudio),
    ("audio/flac", _encode("WAV", "PCM_16"), InvalidAudio),   # WAV bytes labelled FLAC
    ("audio/ogg", b"OggS" + b"\x00" * 100, InvalidAudio),
    ("audio/mpeg", _encode("WAV", "PCM_16"), UnsupportedMediaType),
    ("text/plain", b"hello", UnsupportedMediaType),
    (None, _encode("WAV", "PCM_16"), UnsupportedMediaType),
    ("audio/L16;rate=16000", b"\x00\x01\x02", InvalidAudio),           # odd byte count
    ("audio/L16;channels=1", b"\x00\x01", UnsupportedMediaType),         # rate missing
    ("audio/L16;rate=abc", b"\x00\x01", UnsupportedMediaType),
    ("audio/L16;rate=16000;channels=99", b"\x00\x01", UnsupportedMediaType),
])
def test_bad_audio_is_rejected_with_typed_errors(content_type, data, error):
    with pytest.raises(error) as info:
        decode_audio(data, content_type)
    assert info.value.status_code in (415, 422)


@pytest.mark.parametrize("channels", [1, 2])
def test_16_khz_pcm_wav_read_without_ffmpeg_gives_ffmpegs_samples(channels, monkeypatch):
    from serve_app.engines import audio

    data = _encode("WAV", "PCM_16", rate=TARGET_RATE, channels=channels, seconds=2.0)
    via_ffmpeg = audio._decode_container(data, "wav").samples
    monkeypatch.setattr(audio, "_decode_container", lambda *a, **k: pytest.fail("FFmpeg was used"))
    plain = decode_audio(data, "audio/wav").samples
    assert plain.shape == via_ffmpeg.shape == (channels, 2 * TARGET_RATE) and plain.dtype == np.float32
    assert np.array_equal(plain, via_ffmpeg)


def test_16_khz_pcm_wav_past_the_duration_limit_is_413_without_reading_it_all():
    from serve_app.errors import PayloadTooLarge

    data = _encode("WAV", "PCM_16", rate=TARGET_RATE, seconds=3.0)
    assert decode_audio(data, "audio/wav", max_seconds=3.0).duration_s == 3.0
    with pytest.raises(PayloadTooLarge):
        decode_audio(data, "audio/wav", max_seconds=2.5)


@pytest.mark.parametrize("subtype,rate", [("PCM_16", 44100), ("PCM_24", TARGET_RATE), ("FLOAT", TARGET_RATE)])
def test_other_wav_still_goes_through_ffmpeg(subtype, rate, monkeypatch):
    from serve_app.engines import audio

    used = []
    real = audio._decode_container
    monkeypatch.setattr(audio, "_decode_container", lambda *a, **k: used.append(1) or real(*a, **k))
    out = decode_audio(_encode("WAV", subtype, rate=rate), "audio/wav")
    assert used and out.samples.shape[0] == 1 and abs(out.duration_s - 1.0) < 0.01
