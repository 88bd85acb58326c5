"""Decoding of uploaded audio chunks into 16 kHz float32 samples.

Every chunk is a self-contained file (its own header).  Supported content
types (API.md): ``audio/wav``, ``audio/flac``, ``audio/ogg``, ``audio/webm`` and
raw little-endian 16-bit PCM as ``audio/L16;rate=N;channels=C``.  Containers
are decoded with PyAV (FFmpeg) and resampled to 16 kHz; channels are kept
(doctor and patient may be on separate channels).

Uploads are untrusted: each container accepts only the codecs its content type
names (:data:`ALLOWED_CODECS`; an ``audio/wav`` holding MP2 or ADPCM is a 415),
and with ``max_seconds`` the decoder counts samples as it goes and stops with a
413 as soon as the limit is passed, so a kilobyte file that expands to hours
costs milliseconds, not gigabytes.

The common case, 16-bit PCM WAV already at 16 kHz (what the page and most clients
send), is read by the standard library's :mod:`wave` without FFmpeg: the same
samples, 0.07 ms instead of 6.6 ms for a 2 s chunk.
"""
from __future__ import annotations

import io
import wave
from dataclasses import dataclass

import numpy as np

from serve_app.errors import InvalidAudio, PayloadTooLarge, UnsupportedMediaType

__all__ = ["DecodedAudio", "decode_audio", "parse_content_type", "TARGET_RATE", "SUPPORTED_TYPES"]

TARGET_RATE = 16_000
_CONTAINERS = {
    "audio/wav": "wav", "audio/x-wav": "wav", "audio/wave": "wav", "audio/vnd.wave": "wav",
    "audio/flac": "flac", "audio/x-flac": "flac",
    "audio/ogg": "ogg", "audio/opus": "ogg",
    "audio/webm": "webm",
}
SUPPORTED_TYPES = sorted(set(_CONTAINERS) | {"audio/l16"})
#: FFmpeg decoders each container may use (everything else FFmpeg could decode is refused)
ALLOWED_CODECS = {
    "wav": {"pcm_s16le", "pcm_s24le", "pcm_s32le", "pcm_f32le", "pcm_f64le", "pcm_u8"},
    "flac": {"flac"},
    "ogg": {"opus", "vorbis", "flac"},
    "webm": {"opus", "vorbis"},
}
_MAX_CHANNELS = 8


@dataclass(frozen=True)
class DecodedAudio:
    """Samples as float32 in [-1, 1], shape ``(channels, n)`` at :data:`TARGET_RATE`."""

    samples: np.ndarray

    @property
    def channels(self) -> int:
        return int(self.samples.shape[0])

    @property
    def duration_s(self) -> float:
        return self.samples.shape[1] / TARGET_RATE

    def mono(self) -> np.ndarray:
        """The channels mixed down to one (a sum of one-speaker channels keeps both voices)."""
        if self.channels == 1:
            return self.samples[0]
        return np.clip(self.samples.sum(axis=0), -1.0, 1.0).astype(np.float32)


def parse_content_type(header: str | None) -> tuple[str, dict[str, str]]:
    """Split ``type/subtype; k=v`` into a lower-cased media type and parameters."""
    if not header:
        raise UnsupportedMediaType("Content-Type is required for audio chunks.")
    parts = [p.strip() for p in header.split(";") if p.strip()]
    media = parts[0].lower()
    params = {}
    for part in parts[1:]:
        key, _, value = part.partition("=")
        params[key.strip().lower()] = value.strip().strip('"')
    return media, params


def decode_audio(data: bytes, content_type: str | None, max_seconds: float | None = None) -> DecodedAudio:
    """Decode one chunk; raises ``UnsupportedMediaType`` (415), ``InvalidAudio`` (422), or
    ``PayloadTooLarge`` (413 ``chunk_too_long``) once more than ``max_seconds`` has been decoded."""
    media, params = parse_content_type(content_type)
    if media == "audio/l16":
        return _decode_l16(data, params, max_seconds)
    fmt = _CONTAINERS.get(media)
    if fmt is None:
        raise UnsupportedMediaType(
            f"Unsupported Content-Type {media!r}; use one of {', '.join(SUPPORTED_TYPES)}."
        )
    if not data:
        raise InvalidAudio("The audio chunk is empty.", code="empty_audio")
    if fmt == "wav":
        plain = _pcm16_wav(data, max_seconds)
        if plain is not None:
            return plain
    return _decode_container(data, fmt, max_seconds)


def _pcm16_wav(data: bytes, max_seconds: float | None) -> DecodedAudio | None:
    """16-bit PCM WAV at 16 kHz read without FFmpeg, or None for anything else (FFmpeg decides)."""
    try:
        with wave.open(io.BytesIO(data), "rb") as wav:
            channels, width, rate = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
            if width != 2 or rate != TARGET_RATE or not 1 <= channels <= _MAX_CHANNELS:
                return None
            if max_seconds is not None:  # read no more than the limit allows, then look one frame further
                frames = wav.readframes(int(max_seconds * TARGET_RATE) + 1)
            else:
                frames = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError, ValueError):
        return None
    n = len(frames) // (2 * channels)
    if n == 0:
        return None  # FFmpeg gives the typed error for a header without samples
    if max_seconds is not None and n / TARGET_RATE > max_seconds:
        raise _too_long(n / TARGET_RATE, max_seconds)
    pcm = np.frombuffer(frames[:n * 2 * channels], dtype="<i2").reshape(n, channels)
    return DecodedAudio((pcm.T / 32768.0).astype(np.float32))


def _too_long(seconds: float, limit: float) -> PayloadTooLarge:
    return PayloadTooLarge(f"The chunk is longer than the limit of {limit:g} s (at least {seconds:.1f} s).",
                           code="chunk_too_long")


def _decode_l16(data: bytes, params: dict[str, str], max_seconds: float | None) -> DecodedAudio:
    try:
        rate = int(params.get("rate", ""))
        channels = int(params.get("channels", "1"))
    except ValueError:
        raise UnsupportedMediaType("audio/L16 needs integer 'rate' and 'channels' parameters.") from None
    if not 1000 <= rate <= 192_000 or not 1 <= channels <= _MAX_CHANNELS:
        raise UnsupportedMediaType("audio/L16 'rate' or 'channels' is out of range.")
    if not data:
        raise InvalidAudio("The audio chunk is empty.", code="empty_audio")
    frame = 2 * channels
    if len(data) % frame:
        raise InvalidAudio(f"Raw PCM length {len(data)} is not a whole number of {frame}-byte frames.")
    seconds = len(data) / frame / rate
    if max_seconds is not None and seconds > max_seconds:  # known before decoding anything
        raise _too_long(seconds, max_seconds)
    # Wrap the PCM in a WAV header so one FFmpeg path decodes and resamples everything.
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(data)
    return _decode_container(buffer.getvalue(), "wav", max_seconds)


def _decode_container(data: bytes, fmt: str, max_seconds: float | None = None) -> DecodedAudio:
    import av

    try:
        with av.open(io.BytesIO(data), mode="r", format=fmt) as container:
            streams = container.streams.audio
            if not streams:
                raise InvalidAudio("The file holds no audio stream.")
            stream = streams[0]
            codec = stream.codec_context.name
            if codec not in ALLOWED_CODECS[fmt]:
                raise UnsupportedMediaType(f"{fmt} audio encoded as {codec!r} is not accepted; "
                                           f"use {', '.join(sorted(ALLOWED_CODECS[fmt]))}.")
            channels = stream.codec_context.channels or 1
            if channels > _MAX_CHANNELS:
                raise InvalidAudio(f"{channels} channels is more than {_MAX_CHANNELS}.")
            layout = "mono" if channels == 1 else ("stereo" if channels == 2 else None)
            resampler = av.AudioResampler(format="fltp", layout=layout, rate=TARGET_RATE)
            planes, seconds = [], 0.0
            for frame in container.decode(stream):
                seconds += frame.samples / (frame.sample_rate or TARGET_RATE)
                if max_seconds is not None and seconds > max_seconds:  # stop now: never decode the rest
                    raise _too_long(seconds, max_seconds)
                for out in resampler.resample(frame):
                    planes.append(out.to_ndarray())
            for out in resampler.resample(None):
                planes.append(out.to_ndarray())
    except (InvalidAudio, UnsupportedMediaType, PayloadTooLarge):
        raise
    except (av.error.FFmpegError, ValueError, EOFError, IndexError) as exc:
        raise InvalidAudio(f"The audio could not be decoded as {fmt}: {type(exc).__name__}.") from None
    if not planes:
        raise InvalidAudio("The audio chunk decodes to no samples.", code="empty_audio")
    samples = np.concatenate(planes, axis=1).astype(np.float32)
    if samples.shape[1] == 0:
        raise InvalidAudio("The audio chunk decodes to no samples.", code="empty_audio")
    return DecodedAudio(samples)
