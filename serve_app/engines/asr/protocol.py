"""The ASR engine protocol and the shapes it returns.

Engines take 16 kHz mono float32 samples and return :class:`AsrSegment` s with
word timings in seconds from the start of the samples given.  They are
stateless; cross-chunk streaming is decided by :mod:`serve_app.engines.asr.streaming`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

import numpy as np

__all__ = ["Word", "AsrSegment", "AsrBackend", "segment_from_words"]


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

    def transcribe_batch(self, batch: Sequence[np.ndarray]) -> list[list[AsrSegment]]:
        """:meth:`transcribe` for several independent buffers (e.g. one per session) at once."""
        ...
