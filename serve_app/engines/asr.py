"""Speech recognition: the engine protocol and its faster-whisper backend.

Engines take 16 kHz mono float32 samples and return :class:`AsrSegment` s with
word timings in seconds from the start of the samples given.  They are
stateless; cross-chunk streaming is decided by :mod:`.streaming`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

import numpy as np

__all__ = ["Word", "AsrSegment", "AsrBackend", "FasterWhisperEngine", "segment_from_words"]


@dataclass(frozen=True)
class Word:
    """One recognised word; ``text`` keeps Whisper's leading space; times in seconds."""

    text: str
    start: float
    end: float
    probability: float = 1.0

    def shifted(self, offset: float) -> "Word":
        return Word(self.text, self.start + offset, self.end + offset, self.probability)


@dataclass(frozen=True)
class AsrSegment:
    """A run of words Whisper decoded together (roughly a sentence)."""

    start: float
    end: float
    text: str
    words: tuple[Word, ...]

    def shifted(self, offset: float) -> "AsrSegment":
        return AsrSegment(
            self.start + offset, self.end + offset, self.text, tuple(w.shifted(offset) for w in self.words)
        )


def segment_from_words(words: Sequence[Word]) -> AsrSegment:
    """A segment holding exactly ``words`` (used when a segment is split)."""
    return AsrSegment(words[0].start, words[-1].end, "".join(w.text for w in words).strip(), tuple(words))


class AsrBackend(Protocol):
    """What the pipeline needs from an ASR engine."""

    def transcribe(self, samples: np.ndarray) -> list[AsrSegment]:
        """Transcribe 16 kHz mono float32 samples; times relative to sample 0."""
        ...


class FasterWhisperEngine:
    """faster-whisper (CTranslate2) with Silero VAD and word timestamps.

    Args:
        model_path: a local CTranslate2 Whisper model directory
            (see :func:`serve_app.engines.whisper_models.resolve_whisper_model`).
        compute_type: ``int8`` on CPU.
        cpu_threads: intra-op threads.
        beam_size: decoding beam width.
        language: language code, or ``None`` to detect.
        vad_filter: skip non-speech with the bundled Silero VAD.
    """

    def __init__(
        self,
        model_path: str,
        compute_type: str = "int8",
        cpu_threads: int = 2,
        beam_size: int = 5,
        language: str | None = "en",
        vad_filter: bool = True,
    ):
        from faster_whisper import WhisperModel

        self._model = WhisperModel(model_path, device="cpu", compute_type=compute_type, cpu_threads=cpu_threads)
        self._options = dict(
            beam_size=beam_size,
            language=language,
            vad_filter=vad_filter,
            word_timestamps=True,
            condition_on_previous_text=False,
        )

    def transcribe(self, samples: np.ndarray) -> list[AsrSegment]:
        samples = np.ascontiguousarray(samples, dtype=np.float32)
        if samples.size == 0:
            return []
        segments, _info = self._model.transcribe(samples, **self._options)
        out = []
        for seg in segments:
            words = tuple(
                Word(w.word, float(w.start), float(w.end), float(w.probability)) for w in (seg.words or [])
            )
            if words:
                out.append(AsrSegment(float(seg.start), float(seg.end), seg.text.strip(), words))
        return out
