"""WhisperX behind the ASR engine protocol, in its own virtualenv (Ray runtime_env), through the API."""
from __future__ import annotations

import sys

import jiwer
import pytest

from bench.harness.data import DEV, librispeech_clips, normalise, wav_chunks
from bench.harness.serve import call_deployment

pytestmark = pytest.mark.usefixtures("serve_app")


def test_the_asr_replica_runs_whisperx_in_its_own_python():
    from serve_app.config import AsrConfig
    from serve_app.runtime_envs import whisperx_python

    info = call_deployment("ASR", "info")
    assert info["backend"] == "whisperx"
    assert info["python"] == whisperx_python(AsrConfig(backend="whisperx")) != sys.executable


def test_chunked_transcript_matches_whisperx_on_the_whole_clip(alice):
    """LibriSpeech clips streamed as 2 s chunks: WER within two word errors of WhisperX on each whole
    clip (the same replica's ``transcribe``, masked as the API's transcript is), every word timed inside
    the clip, in order, none lost or doubled at a chunk boundary (a lost or doubled 2 s chunk is five or
    more errors)."""
    from faster_whisper import decode_audio

    from tests.integration.test_transcription import masked, transcribe_via_api

    refs, api_hyps, whole_hyps = [], [], []
    for clip in librispeech_clips():
        path = DEV / clip["wav"]
        chunks = wav_chunks(path, 2.0)
        state = transcribe_via_api(alice, chunks, range(len(chunks)))
        assert state["chunks"]["processed"] == len(chunks)
        words = [w for s in state["segments"] for w in s["words"]]
        assert words and all(0 <= w["start"] <= w["end"] <= clip["duration_s"] + 0.5 for w in words)
        assert [w["start"] for w in words] == sorted(w["start"] for w in words)
        api_hyps.append(normalise(alice.transcript(state)))
        whole = call_deployment("ASR", "transcribe", decode_audio(str(path)))
        assert all(w.start <= w.end for s in whole for w in s.words)
        whole_hyps.append(normalise(masked(" ".join(s.text for s in whole))))
        refs.append(normalise(clip["reference"]))
    api_wer, whole_wer = jiwer.wer(refs, api_hyps), jiwer.wer(refs, whole_hyps)
    print(f"\nWhisperX WER api(2s chunks)={api_wer:.4f} whole clips={whole_wer:.4f}")
    for ref, api, whole in zip(refs, api_hyps, whole_hyps):
        if api != whole:
            print(f"  differs:\n    api  : {api}\n    whole: {whole}\n    ref  : {ref}")
    words = sum(len(ref.split()) for ref in refs)
    assert whole_wer < 0.3  # a broken decode (empty, wrong language, garbage) is far above this
    assert round(api_wer * words) <= round(whole_wer * words) + 2
