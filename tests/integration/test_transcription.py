"""Audio in, masked transcript out: LibriSpeech clips sent as 2-second chunks."""
from __future__ import annotations

import random
from functools import lru_cache

import jiwer

from bench.harness.data import DEV, librispeech_clips, normalise, wav_chunks


def _shipped_args() -> dict:
    import yaml

    from tests.integration.conftest import ROOT

    return yaml.safe_load((ROOT / "serve_config.yaml").read_text())["applications"][0]["args"]


@lru_cache(maxsize=1)
def bare_engine():
    """The same engine the ASR deployment runs (serve_config.yaml's asr), called directly on whole clips."""
    from deployments.asr import build_asr_engine
    from serve_app.config import AsrConfig

    return build_asr_engine(AsrConfig(**_shipped_args()["asr"]), "/tmp")


@lru_cache(maxsize=1)
def bare_masker():
    """The PII engine the PII deployment runs: the API's transcript is masked, so the bare side is too."""
    from serve_app.config import PiiConfig
    from serve_app.engines.pii.engine import PiiEngine

    return PiiEngine.from_config(PiiConfig(**_shipped_args()["pii"]))


def masked(text: str) -> str:
    from serve_app.engines.pii.engine import mask_segments

    return mask_segments(bare_masker(), [{"text": text}], {})[0][0]["text"]


def transcribe_via_api(client, chunks, order):
    sid = client.create_session()
    for seq in order:
        r = client.put_chunk(sid, seq, chunks[seq])
        assert r.status_code == 202, r.text
        assert r.json()["seq"] == seq
    client.finish(sid)
    state = client.wait_finished(sid)
    assert state["chunks"]["received"] == len(chunks)
    assert state["chunks"]["missing"] == [] and state["chunks"]["failed"] == []
    return state


def test_chunked_wer_matches_whole_clip_wer(alice):
    """WER through the API in 2 s chunks is at most two word errors above bare whole-clip WER (both
    masked: a name the API's transcript holds as a placeholder is not an ASR error).

    Where a streaming decode step ends depends on when chunks arrive (chunks that arrive together are
    decoded in one step), so one word can split differently ("fattened" -> "fat and": two errors);
    a lost or doubled 2 s chunk is five or more."""
    from faster_whisper import decode_audio

    refs, api_hyps, bare_hyps = [], [], []
    for clip in librispeech_clips():
        path = DEV / clip["wav"]
        chunks = wav_chunks(path, 2.0)
        state = transcribe_via_api(alice, chunks, range(len(chunks)))
        api_hyps.append(normalise(alice.transcript(state)))
        bare = bare_engine().transcribe(decode_audio(str(path)))
        bare_hyps.append(normalise(masked(" ".join(s.text for s in bare))))
        refs.append(normalise(clip["reference"]))
        # words carry timings inside the session's timeline
        words = [w for s in state["segments"] for w in s["words"]]
        assert words and all(0 <= w["start"] <= w["end"] <= clip["duration_s"] + 0.5 for w in words)
        assert [w["start"] for w in words] == sorted(w["start"] for w in words)
    api_wer = jiwer.wer(refs, api_hyps)
    bare_wer = jiwer.wer(refs, bare_hyps)
    print(f"\nWER api(2s chunks)={api_wer:.4f} bare(whole clips)={bare_wer:.4f}")
    for ref, api, bare in zip(refs, api_hyps, bare_hyps):
        if api != bare:
            print(f"  differs:\n    api : {api}\n    bare: {bare}\n    ref : {ref}")
    words = sum(len(ref.split()) for ref in refs)
    assert round(api_wer * words) <= round(bare_wer * words) + 2


def test_out_of_order_and_repeated_chunks_give_the_same_transcript(alice):
    clip = librispeech_clips()[0]
    chunks = wav_chunks(DEV / clip["wav"], 2.0)
    in_order = transcribe_via_api(alice, chunks, range(len(chunks)))
    order = list(range(len(chunks)))
    random.Random(7).shuffle(order)
    order.insert(3, order[1])  # a repeated chunk (same bytes) is a no-op
    shuffled = transcribe_via_api(alice, chunks, order)
    assert alice.transcript(shuffled) == alice.transcript(in_order)
    assert [s["id"] for s in shuffled["segments"]] == [f"s{i}" for i in range(len(shuffled["segments"]))]


def test_words_appear_while_recording(alice):
    """Committed words are in the state before finish, when chunks come one at a time as a live
    recording sends them (each processed before the next; chunks that arrive together are decoded in
    one step, and their last words wait for more audio or for finish)."""
    import time

    clip = librispeech_clips()[0]
    chunks = wav_chunks(DEV / clip["wav"], 2.0)
    sid = alice.create_session()
    deadline = time.monotonic() + 120
    for seq, chunk in enumerate(chunks):
        assert alice.put_chunk(sid, seq, chunk).status_code == 202
        state = alice.state(sid)
        while time.monotonic() < deadline and state["chunks"]["processed"] < seq + 1:
            time.sleep(0.2)
            state = alice.state(sid)
    assert state["status"] == "recording" and state["chunks"]["processed"] == len(chunks)
    assert len(normalise(alice.transcript(state)).split()) >= 10


def test_gap_is_visible_until_filled(alice):
    clip = librispeech_clips()[0]
    chunks = wav_chunks(DEV / clip["wav"], 2.0)
    sid = alice.create_session()
    for seq in (0, 2, 3):
        assert alice.put_chunk(sid, seq, chunks[seq]).status_code == 202
    state = alice.state(sid)
    assert state["chunks"]["missing"] == [1]
    assert alice.put_chunk(sid, 1, chunks[1]).status_code == 202
    assert alice.state(sid)["chunks"]["missing"] == []
