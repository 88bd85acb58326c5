"""The WhisperX backend of :class:`~serve_app.engines.asr.protocol.AsrBackend`.

WhisperX (Bain et al., *WhisperX: Time-Accurate Speech Transcription of Long-Form Audio*, 2023) cuts
the audio into speech regions with its bundled pyannote VAD, transcribes the regions in one batched
faster-whisper call (no timestamps, no conditioning on earlier text) and then aligns the words.

WhisperX 3.8 pins torch 2.8 and transformers<5, which cannot share the service's environment with
vLLM, so this module runs only inside WhisperX's own virtualenv: the ASR deployment is started with
``runtime_env={"py_executable": <that venv's python>}`` (``asr.backend: whisperx``,
:func:`serve_app.placement.asr_runtime_env`).  Nothing here is imported by the service's own
environment.

Word timings, which the streaming commit policy needs:

* with ``align_model`` (a local Hugging Face wav2vec2 CTC directory), WhisperX's own forced
  alignment (``whisperx.align``); words it cannot align (digits, symbols) get times interpolated
  from their neighbours, as WhisperX does;
* without one, Whisper's cross-attention alignment (faster-whisper's ``find_alignment``, the
  dynamic-time-warping method of ``word_timestamps=True``) of each region's decoded text, one
  batched encoder pass for the regions.  WhisperX downloads its alignment models at run time,
  which this project never does (local model paths only).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from serve_app.engines.asr.protocol import AsrSegment, Word

__all__ = ["WhisperXEngine", "segments_from_aligned", "interpolate_missing"]

_RATE = 16000
_PREPEND = "\"'“¿([{-"  # faster-whisper's defaults for word_timestamps
_APPEND = "\"'.。,，!！?？:：”)]}、"


class WhisperXEngine:
    """WhisperX: VAD-cut regions, one batched decode, aligned words.

    Args:
        model_path: a local CTranslate2 Whisper model directory (the same one faster-whisper uses).
        compute_type: CTranslate2 compute type (``int8`` on CPU).
        cpu_threads: CTranslate2 and torch threads.
        language: language code (WhisperX detects it per file when ``None``).
        batch_size: VAD regions decoded in one batched call.
        chunk_size_s: VAD regions are merged up to this many seconds (WhisperX's ``chunk_size``).
        align_model: a local wav2vec2 CTC model directory for ``whisperx.align``; ``None``:
            Whisper's cross-attention alignment.
        vad_onset, vad_offset: WhisperX's pyannote VAD thresholds.
    """

    def __init__(self, model_path: str, compute_type: str = "int8", cpu_threads: int = 1,
                 language: str | None = "en", batch_size: int = 8, chunk_size_s: int = 30,
                 align_model: str | None = None, vad_onset: float = 0.5, vad_offset: float = 0.363):
        import torch
        import whisperx

        torch.set_num_threads(cpu_threads)
        self._whisperx = whisperx
        self._language = language
        self._batch_size = batch_size
        self._chunk_size = chunk_size_s
        self._pipeline = whisperx.load_model(
            model_path, "cpu", compute_type=compute_type, language=language, threads=cpu_threads,
            asr_options={"beam_size": 1, "best_of": 1, "temperatures": [0.0]}, vad_method="pyannote",
            vad_options={"vad_onset": vad_onset, "vad_offset": vad_offset}, local_files_only=True)
        self._aligner = None
        if align_model is not None:
            self._aligner = whisperx.load_align_model(language_code=language or "en", device="cpu",
                                                      model_name=align_model)

    def transcribe(self, samples: np.ndarray) -> list[AsrSegment]:
        """16 kHz mono float32 -> segments with word timings (seconds from sample 0)."""
        audio = np.ascontiguousarray(samples, dtype=np.float32)
        if audio.size < _RATE // 10:  # under 0.1 s: nothing a VAD or decoder can use
            return []
        result = self._pipeline.transcribe(audio, batch_size=self._batch_size, language=self._language,
                                           chunk_size=self._chunk_size)
        regions = [r for r in result["segments"] if r["text"].strip()]
        if not regions:
            return []
        if self._aligner is not None:
            model, metadata = self._aligner
            aligned = self._whisperx.align(regions, model, metadata, audio, "cpu", return_char_alignments=False)
            return segments_from_aligned(aligned["segments"])
        return segments_from_aligned(self._whisper_alignment(audio, regions))

    def transcribe_batch(self, batch: Sequence[np.ndarray]) -> list[list[AsrSegment]]:
        """Each buffer on its own (WhisperX already batches a buffer's speech regions)."""
        return [self.transcribe(samples) for samples in batch]

    def _whisper_alignment(self, audio: np.ndarray, regions: list[dict]) -> list[dict]:
        """``regions`` with ``words`` from Whisper's cross-attention alignment of their text."""
        from faster_whisper.transcribe import merge_punctuations
        from whisperx.audio import N_SAMPLES, log_mel_spectrogram

        model = self._pipeline.model
        tokenizer = self._pipeline.tokenizer
        n_mels = model.feat_kwargs.get("feature_size") or 80
        out = []
        for region in regions:
            first, last = int(region["start"] * _RATE), int(region["end"] * _RATE)
            piece = audio[first:min(last, first + N_SAMPLES)]
            features = log_mel_spectrogram(piece, n_mels=n_mels, padding=N_SAMPLES - piece.shape[0])
            encoder_output = model.encode(np.asarray(features)[None])
            tokens = tokenizer.encode(" " + region["text"].strip())
            num_frames = piece.shape[0] // model.feature_extractor.hop_length
            alignment = model.find_alignment(tokenizer, [tokens], encoder_output, num_frames)[0]
            merge_punctuations(alignment, _PREPEND, _APPEND)  # "," and "-" join their word, as faster-whisper does
            words = [{"word": w["word"], "start": region["start"] + float(w["start"]),
                      "end": region["start"] + float(w["end"]), "score": float(w["probability"])}
                     for w in alignment if w["word"].strip()]
            out.append({**region, "words": words})
        return out


def interpolate_missing(words: list[dict], start: float, end: float) -> list[dict]:
    """Words with ``start``/``end``; those WhisperX could not align (no times) get the gap between
    their aligned neighbours, shared equally (the region's bounds at either end)."""
    filled = [dict(w) for w in words]
    i = 0
    while i < len(filled):
        if "start" in filled[i] and "end" in filled[i]:
            i += 1
            continue
        j = i
        while j < len(filled) and not ("start" in filled[j] and "end" in filled[j]):
            j += 1
        left = filled[i - 1]["end"] if i > 0 else start
        right = filled[j]["start"] if j < len(filled) else end
        step = max(0.0, right - left) / (j - i)
        for k in range(i, j):
            filled[k]["start"] = left + step * (k - i)
            filled[k]["end"] = left + step * (k - i + 1)
        i = j
    return filled


def segments_from_aligned(regions: list[dict[str, Any]]) -> list[AsrSegment]:
    """WhisperX's aligned segments as :class:`AsrSegment` s (words with Whisper's leading space)."""
    segments = []
    for region in regions:
        raw = [w for w in region.get("words", []) if str(w.get("word", "")).strip()]
        if not raw:
            continue
        timed = interpolate_missing(raw, float(region["start"]), float(region["end"]))
        words = tuple(Word(" " + str(w["word"]).strip(), round(float(w["start"]), 3), round(float(w["end"]), 3),
                           float(w.get("score", w.get("probability", 1.0)) or 0.0))
                      for w in timed)
        segments.append(AsrSegment(words[0].start, words[-1].end, "".join(w.text for w in words).strip(), words))
    return segments
