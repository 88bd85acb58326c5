"""The faster-whisper (CTranslate2) backend of :class:`~serve_app.engines.asr.protocol.AsrBackend`."""
from __future__ import annotations

from dataclasses import replace
from typing import Callable, Sequence

import numpy as np

from serve_app.engines.asr.protocol import AsrSegment, Word

__all__ = ["FasterWhisperEngine", "BatchDecoder", "encoder_frames"]

_FRAMES_PER_S = 100  # Whisper's mel frames per second (hop 160 at 16 kHz)
_MAX_FRAMES = 3000   # Whisper's 30 s window
_MAX_TOKENS_PER_S = 8  # text + timestamp tokens a second of speech can need (English speech: about 4)


def encoder_frames(features: np.ndarray, floor_s: float, margin_s: float) -> int:
    """How many mel frames of a padded Whisper window the encoder needs to see.

    faster-whisper pads every window's features with zero columns up to 30 s
    (``pad_or_trim``); encoding that padding is most of the cost of a short streaming
    buffer.  The frames kept are the content (up to the last column that is not all
    zeros: a real log-mel column never is) plus ``margin_s`` of the padding, at least
    ``floor_s`` (Whisper degrades on very short windows), at most 30 s, rounded up to an
    even count (the encoder's convolution has stride 2).  ``features``: ``(80, T)`` or
    ``(batch, 80, T)``.
    """
    columns = np.flatnonzero(np.any(features.reshape(-1, features.shape[-1]) != 0, axis=0))
    content = int(columns[-1]) + 1 if columns.size else 0
    frames = max(int(floor_s * _FRAMES_PER_S), content + int(margin_s * _FRAMES_PER_S))
    frames = min(features.shape[-1], _MAX_FRAMES, frames)
    return frames + frames % 2


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
        window_floor_s: encode only the buffer plus ``window_margin_s`` of padding, at
            least this many seconds (:func:`encoder_frames`); ``None`` encodes Whisper's
            full 30 s window as faster-whisper does.
        window_margin_s: seconds of padding kept after the buffer.
        temperatures: decoding temperatures; more than one re-decodes a buffer whose
            result looks wrong (low log-probability, repetition) by sampling at the next.
        batched: with one temperature, decode through :class:`BatchDecoder` (one pass per
            buffer, several buffers at once); otherwise faster-whisper's sequential loop.
        num_workers: ``transcribe`` calls that may run at once from different threads
            (CTranslate2 workers, each with ``cpu_threads`` threads); the sequential loop only.
    """

    def __init__(
        self,
        model_path: str,
        compute_type: str = "int8",
        cpu_threads: int = 2,
        beam_size: int = 5,
        language: str | None = "en",
        vad_filter: bool = True,
        window_floor_s: float | None = None,
        window_margin_s: float = 2.0,
        temperatures: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0),
        batched: bool = True,
        num_workers: int = 1,
    ):
        from faster_whisper import WhisperModel

        class _WindowedWhisper(WhisperModel):
            """WhisperModel whose encoder skips the zero padding beyond the window
            (``window_floor_s`` None: the whole 30 s window, as faster-whisper does)."""

            window_floor_s: float | None = None

            def encode(self, features):  # the one place faster-whisper runs the encoder
                if self.window_floor_s is not None:
                    features = features[..., :encoder_frames(features, self.window_floor_s, window_margin_s)]
                return super().encode(np.ascontiguousarray(features))

        self._model = _WindowedWhisper(model_path, device="cpu", compute_type=compute_type, cpu_threads=cpu_threads,
                                       num_workers=num_workers)
        self._model.window_floor_s = window_floor_s
        self._options = dict(
            beam_size=beam_size,
            language=language,
            vad_filter=vad_filter,
            word_timestamps=True,
            condition_on_previous_text=False,
            temperature=list(temperatures),
        )
        self._batched = BatchDecoder(self._model, beam_size, language, vad_filter, self._whole_window) \
            if batched and len(temperatures) == 1 else None

    def transcribe(self, samples: np.ndarray) -> list[AsrSegment]:
        return self.transcribe_batch([samples])[0]

    def transcribe_batch(self, batch: Sequence[np.ndarray]) -> list[list[AsrSegment]]:
        """Several buffers (e.g. one per live session) in one encoder and one decoder call.

        Without temperature fallback (one temperature) the buffers are decoded together
        (:class:`BatchDecoder`); with fallback each buffer goes through faster-whisper's
        sequential ``transcribe`` (which re-decodes a doubtful window at the next temperature).
        """
        batch = [np.ascontiguousarray(b, dtype=np.float32) for b in batch]
        if self._batched is not None:
            return self._batched(batch)
        return [self._sequential(b) for b in batch]

    def _sequential(self, samples: np.ndarray) -> list[AsrSegment]:
        """faster-whisper's own sequential decode of ``samples`` (seek loop, temperature fallback if set)."""
        return _segments(self._model.transcribe(samples, **self._options)[0]) if samples.size else []

    def _whole_window(self, samples: np.ndarray) -> list[AsrSegment]:
        """faster-whisper's own sequential decode of ``samples`` over the whole 30 s window."""
        window, self._model.window_floor_s = self._model.window_floor_s, None
        try:
            return self._sequential(samples)
        finally:
            self._model.window_floor_s = window


def _suspect(result: list[dict], meta: dict, max_compression: float) -> bool:
    """Whether one row of a batched decode (a piece of ``meta["duration"]`` seconds starting at
    ``meta["offset"]``) is a repetition loop or stopped early."""
    from faster_whisper.transcribe import get_compression_ratio

    text = " ".join(seg["text"] for seg in result).strip()
    tokens = sum(len(seg["tokens"]) for seg in result)
    decoded_to = max((seg["end"] for seg in result), default=meta["offset"]) - meta["offset"]
    looping = tokens >= _MAX_TOKENS_PER_S * meta["duration"] + 10 or (
        bool(text) and get_compression_ratio(text) > max_compression)
    return looping or meta["duration"] - decoded_to > 2.0


def _segments(segments) -> list[AsrSegment]:
    """faster-whisper ``Segment`` s (times in seconds) -> :class:`AsrSegment` s with words."""
    out = []
    for seg in segments:
        words = tuple(Word(w.word, float(w.start), float(w.end), float(w.probability)) for w in (seg.words or []))
        if words:
            out.append(AsrSegment(float(seg.start), float(seg.end), seg.text.strip(), words))
    return out


class BatchDecoder:
    """Decodes many buffers in one batched encoder/decoder/alignment pass.

    Each buffer's speech is found with Silero VAD and joined (``collect_chunks``, at most
    30 s per piece, as faster-whisper's batched pipeline does); every piece of every buffer
    becomes one row of the batch (``BatchedInferencePipeline.forward``: greedy or beam
    search at one temperature, timestamps on so a buffer splits into sentences, word
    timings by cross-attention alignment); times are mapped back to each buffer's own
    timeline.  A segment Whisper itself flags as silence (no-speech probability above 0.6
    with an average log-probability below -1, faster-whisper's rule) is dropped.
    """

    def __init__(self, model, beam_size: int, language: str | None, vad_filter: bool,
                 fallback: Callable[[np.ndarray], list[AsrSegment]]):
        from faster_whisper.tokenizer import Tokenizer
        from faster_whisper.transcribe import BatchedInferencePipeline, TranscriptionOptions, get_suppressed_tokens

        self._model, self._vad_filter, self._fallback = model, vad_filter, fallback
        self._pipeline = BatchedInferencePipeline(model)
        self._tokenizer = Tokenizer(model.hf_tokenizer, model.model.is_multilingual, task="transcribe",
                                    language=language or "en")
        self._options = TranscriptionOptions(
            beam_size=beam_size, best_of=1, patience=1, length_penalty=1, repetition_penalty=1,
            no_repeat_ngram_size=0, log_prob_threshold=-1.0, no_speech_threshold=0.6,
            compression_ratio_threshold=2.4, condition_on_previous_text=False, prompt_reset_on_temperature=0.5,
            temperatures=[0.0], initial_prompt=None, prefix=None, suppress_blank=True,
            suppress_tokens=get_suppressed_tokens(self._tokenizer, [-1]), without_timestamps=False,
            max_initial_timestamp=1.0, word_timestamps=True, prepend_punctuations="\"'“¿([{-",
            append_punctuations="\"'.。,，!！?？:：”)]}、", multilingual=False, max_new_tokens=None,
            clip_timestamps=None, hallucination_silence_threshold=None, hotwords=None)

    def _pieces(self, audio: np.ndarray) -> tuple[list[np.ndarray], list[dict], list[dict] | None]:
        from faster_whisper.vad import VadOptions, collect_chunks, get_speech_timestamps

        if audio.size == 0:
            return [], [], None
        if not self._vad_filter:
            return [audio[i:i + 30 * 16000] for i in range(0, audio.size, 30 * 16000)], \
                [{"offset": i / 16000, "duration": min(30.0, (audio.size - i) / 16000)}
                 for i in range(0, audio.size, 30 * 16000)], None
        speech = get_speech_timestamps(audio, VadOptions(max_speech_duration_s=30.0))  # one piece fits a window
        if not speech:
            return [], [], speech
        pieces, meta = collect_chunks(audio, speech, max_duration=30.0)
        return pieces, meta, speech

    def __call__(self, batch: Sequence[np.ndarray]) -> list[list[AsrSegment]]:
        """Segments of each buffer.  A buffer the batched pass got wrong is decoded again alone by
        ``fallback`` (faster-whisper's sequential loop over the whole 30 s window): one whose output
        looks like Whisper's repetition loop (the text compresses better than
        ``compression_ratio_threshold``, or holds more tokens than its speech can), or whose decode
        stopped more than 2 s before the end of its speech (the batched pass has no second window)."""
        out = self._decode(batch)
        for k, segs in enumerate(out):
            if segs is None:
                out[k] = self._fallback(batch[k])
        return out

    def _decode(self, batch: Sequence[np.ndarray]) -> list[list[AsrSegment] | None]:
        """One batched pass; None for a buffer whose output is suspect (see :meth:`__call__`)."""
        from faster_whisper.audio import pad_or_trim
        from faster_whisper.transcribe import Segment, restore_speech_timestamps
        from faster_whisper.transcribe import Word as FwWord

        rows, owners, speech_of = [], [], []
        for k, audio in enumerate(batch):
            pieces, meta, speech = self._pieces(audio)
            speech_of.append(speech)
            for piece, m in zip(pieces, meta):
                if piece.size >= 160:  # shorter than one mel frame: nothing to hear
                    rows.append((self._model.feature_extractor(piece)[..., :-1], m))
                    owners.append(k)
        out: list[list] = [[] for _ in batch]
        if not rows:
            return [[] for _ in batch]
        self._pipeline.last_speech_timestamp = 0.0
        features = np.stack([pad_or_trim(f) for f, _ in rows])  # the windowed encoder trims the padding
        longest_s = max(m["duration"] for _, m in rows)
        options = replace(self._options, max_new_tokens=min(400, int(_MAX_TOKENS_PER_S * longest_s) + 10))
        results = self._pipeline.forward(features, self._tokenizer, [m for _, m in rows], options)
        suspect: set[int] = set()
        for k, (_, meta), result in zip(owners, rows, results):
            if _suspect(result, meta, self._options.compression_ratio_threshold):
                suspect.add(k)
            for seg in result:
                if seg["no_speech_prob"] > 0.6 and seg["avg_logprob"] < -1.0:
                    continue
                out[k].append(Segment(
                    id=0, seek=seg["seek"], start=seg["start"], end=seg["end"], text=seg["text"],
                    tokens=seg["tokens"], avg_logprob=seg["avg_logprob"], compression_ratio=seg["compression_ratio"],
                    no_speech_prob=seg["no_speech_prob"], words=[FwWord(**w) for w in seg.get("words", [])],
                    temperature=0.0))
        return [None if k in suspect else _segments(restore_speech_timestamps(segs, speech, 16000) if speech else segs)
                for k, (segs, speech) in enumerate(zip(out, speech_of))]
