"""The faster-whisper (CTranslate2) backend of :class:`~serve_app.engines.asr.protocol.AsrBackend`."""
from __future__ import annotations

import numpy as np

from serve_app.engines.asr.protocol import AsrSegment, Word

__all__ = ["FasterWhisperEngine"]


class FasterWhisperEngine:
    """faster-whisper (CTranslate2) with Silero VAD and word timestamps.

    Args:
        model_path: a local CTranslate2 Whisper model directory
            (see :func:`serve_app.engines.asr.models.resolve_whisper_model`).
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
