"""Bench: streaming ASR quality and cost per engine setting, without Serve (issue 16).

    . scripts/env.sh && python -m bench.perf.asr_stream [--variants pad30,win6] [--chunk-s 2]

Each clip is fed as the pipeline feeds it: every ``chunk_s`` the buffer from the cursor
minus ``context_s`` to the end of the audio received is transcribed, words of the left
context are dropped (:func:`serve_app.engines.asr.streaming.segments_after`) and
:func:`~serve_app.engines.asr.streaming.decide_commit` picks what to commit; at the end
the tail is flushed.  Reported per variant and clip set: chunked WER, whole-clip WER,
ASR seconds per audio second (each step timed; variants interleaved clip by clip in one run so
the machine's noise hits all of them), and each committed word's commit delay: audio received
when it was committed minus the word's end, the streaming policy's own latency without compute.

Clip sets, frozen before any setting was chosen: ``tune`` (the 3 real LibriSpeech clips and the
first synthetic two-voice PriMock57 rendering, 120 s) is where settings were compared;
``held_out`` (the other two renderings, 232 s) was only run with the settings already chosen.
Results: ``bench/results/asr_stream[_<label>].json``.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import jiwer
import numpy as np

from bench.harness.data import DEV, librispeech_clips, normalise, save_result
from serve_app.config import AsrConfig
from serve_app.engines.asr.streaming import boundary_rule, decide_commit, segments_after

RATE = 16000
# name -> FasterWhisperEngine keyword arguments (beyond the model and threads)
VARIANTS = {
    # the service as issue 16 found it: 30 s window, temperature fallback, segment ends and an 8 s tail, 1 s held back
    "issue16_before": dict(window_floor_s=None, batched=False, holdback_s=1.0, max_tail_s=8.0, local_agreement=False),
    "pad30": dict(window_floor_s=None),  # faster-whisper as shipped: 30 s window, temperature fallback
    "pad30_t0": dict(window_floor_s=None, temperatures=(0.0,)),
    "win4": dict(window_floor_s=4.0, temperatures=(0.0,), batched=False),
    "win6": dict(window_floor_s=6.0, temperatures=(0.0,), batched=False),
    "win8": dict(window_floor_s=8.0, temperatures=(0.0,), batched=False),
    "win10": dict(window_floor_s=10.0, temperatures=(0.0,), batched=False),
    "win8_batch": dict(window_floor_s=8.0, temperatures=(0.0,)),  # BatchDecoder, one buffer per call
    "win16_batch": dict(window_floor_s=16.0, temperatures=(0.0,)),
    "win20_batch": dict(window_floor_s=20.0, temperatures=(0.0,)),
    "win8_m6": dict(window_floor_s=8.0, window_margin_s=6.0, temperatures=(0.0,), batched=False),
    "win16": dict(window_floor_s=16.0, temperatures=(0.0,), batched=False),
    "pad30_batch": dict(window_floor_s=None, temperatures=(0.0,)),
    "pad30_seq_t0": dict(window_floor_s=None, temperatures=(0.0,), batched=False),
    # the shipped decode, committing word by word once more than max_tail_s is uncommitted (was 8 s; 4 s since)
    "pad30_tail4": dict(window_floor_s=None, temperatures=(0.0,), batched=False, max_tail_s=4.0),
    "pad30_tail3": dict(window_floor_s=None, temperatures=(0.0,), batched=False, max_tail_s=3.0),
    "pad30_tail2": dict(window_floor_s=None, temperatures=(0.0,), batched=False, max_tail_s=2.0),
    "win8_tail3": dict(window_floor_s=8.0, temperatures=(0.0,), batched=False, max_tail_s=3.0),
    "win8_tail4": dict(window_floor_s=8.0, temperatures=(0.0,), batched=False, max_tail_s=4.0),
    "win12_tail4": dict(window_floor_s=12.0, temperatures=(0.0,), batched=False, max_tail_s=4.0),
    "win12_tail4_agree": dict(  # the shipped setting since it was measured
        window_floor_s=12.0, temperatures=(0.0,), batched=False, max_tail_s=4.0, local_agreement=True),
    # what committing sooner costs (issue 16's committed-word goal): shorter tail and holdback
    "win12_tail2_hold05_agree": dict(window_floor_s=12.0, temperatures=(0.0,), batched=False, max_tail_s=2.0,
                                     holdback_s=0.5, local_agreement=True),
    "win12_tail1_hold03_agree": dict(window_floor_s=12.0, temperatures=(0.0,), batched=False, max_tail_s=1.0,
                                     holdback_s=0.3, local_agreement=True),
    "win12_tail05_hold02_agree": dict(window_floor_s=12.0, temperatures=(0.0,), batched=False, max_tail_s=0.5,
                                      holdback_s=0.2, local_agreement=True),
    "win12_tail0_hold0_agree": dict(window_floor_s=12.0, temperatures=(0.0,), batched=False, max_tail_s=0.0,
                                    holdback_s=0.0, local_agreement=True),
    # the words Whisper is at least this sure of commit at once (outside the held-back tail)
    **{f"win12_tail1_hold03_agree_p{round(p * 100)}": dict(
        window_floor_s=12.0, temperatures=(0.0,), batched=False, max_tail_s=1.0, holdback_s=0.3,
        local_agreement=True, commit_probability=p) for p in (0.95, 0.9, 0.8, 0.7, 0.5)},
    # every word but the last one decoded commits (a boundary cuts only the last), from this probability up,
    # and the last one too once the buffer runs on ``g`` seconds after it
    **{f"win12_tail1_hold03_agree_last_p{round(p * 100)}" + (f"_g{round(g * 100)}" if g is not None else ""): dict(
        window_floor_s=12.0, temperatures=(0.0,), batched=False, max_tail_s=1.0, holdback_s=0.3,
        local_agreement=True, boundary_commit=True, boundary_min_probability=p, boundary_last_gap_s=g)
       for p in (0.0, 0.3, 0.5) for g in (None, 0.1, 0.2, 0.3)},
}
#: variant keys that are streaming settings (AsrConfig fields), not engine arguments
STREAM_KEYS = ("max_tail_s", "holdback_s", "context_s", "local_agreement", "commit_probability", "boundary_commit",
               "boundary_min_probability", "boundary_last_gap_s")


def clip_paths() -> dict[str, list[tuple[str, Path, str]]]:
    """The frozen clip sets: (id, audio file, reference text) per set."""
    libri = [(c["id"], DEV / c["wav"], c["reference"]) for c in librispeech_clips()]
    consult = [(ref.name.replace(".synth.ref.txt", ""), ref.with_name(ref.name.replace(".ref.txt", ".flac")),
                ref.read_text()) for ref in sorted((DEV / "consultation_audio").glob("*.synth.ref.txt"))]
    return {"tune": libri + consult[:1], "held_out": consult[1:]}


def clip_sets() -> dict[str, list[tuple[str, np.ndarray, str]]]:
    """:func:`clip_paths` with the audio decoded (16 kHz mono float32)."""
    from faster_whisper import decode_audio

    return {name: [(cid, decode_audio(str(path)), ref) for cid, path, ref in clips]
            for name, clips in clip_paths().items()}


def stream(engine, audio: np.ndarray, cfg: AsrConfig, chunk_s: float) -> tuple[str, float, list[float]]:
    """The committed transcript of ``audio`` streamed in chunks, the ASR seconds spent, and each
    committed word's commit delay: audio received when it was committed minus its end (no compute)."""
    cursor, words, spent, delays, previous = 0.0, [], 0.0, [], None
    duration = len(audio) / RATE
    ends = list(np.arange(chunk_s, duration, chunk_s)) + [duration]
    for k, end in enumerate(ends):
        final = k == len(ends) - 1
        buffer_start = max(0.0, cursor - cfg.context_s)
        t0 = time.perf_counter()
        raw = engine.transcribe(audio[int(buffer_start * RATE):int(end * RATE)])
        spent += time.perf_counter() - t0
        decision = decide_commit(segments_after(raw, buffer_start, cursor), cursor, end, cfg.holdback_s,
                                 cfg.max_tail_s, final, previous=previous if cfg.local_agreement else None,
                                 confident=cfg.commit_probability, boundary=boundary_rule(cfg))
        previous = decision.pending
        words += [w.text for s in decision.segments for w in s.words]
        delays += [end - w.end for s in decision.segments for w in s.words]
        cursor = decision.cursor
    return "".join(words), spent, delays


def summary(a: dict, chunk_s: float) -> dict:
    """One variant's figures on a clip set from its accumulated ``refs``, ``chunked`` (and ``whole``)
    transcripts, ASR and audio seconds and commit delays."""
    out = {"clips": len(a["refs"]), "audio_s": round(a["audio_s"], 1),
           "chunked_wer": round(jiwer.wer(a["refs"], a["chunked"]), 4)}
    if a.get("whole"):
        out["whole_wer"] = round(jiwer.wer(a["refs"], a["whole"]), 4)
    out["asr_s_per_audio_s"] = round(a["asr_s"] / a["audio_s"], 4)
    out["commit_delay_s"] = ({f"p{q}": round(float(np.percentile(a["delays"], q)), 2) for q in (50, 95)}
                             if a["delays"] else {})
    # words left for a later chunk than the one they ended in: each waits a whole chunk more
    out["held_over_share"] = round(float(np.mean(np.array(a["delays"]) >= chunk_s)), 4) if a["delays"] else None
    return out


def main() -> None:
    from serve_app.engines.asr.models import resolve_whisper_model
    from serve_app.engines.asr.whisper import FasterWhisperEngine

    parser = argparse.ArgumentParser()
    parser.add_argument("--variants", default="pad30,win6")
    parser.add_argument("--chunk-s", type=float, default=2.0)
    parser.add_argument("--sets", default="tune,held_out")
    parser.add_argument("--label", default="")
    args = parser.parse_args()
    cfg = AsrConfig()
    path = resolve_whisper_model(cfg.model, "/tmp")
    names = args.variants.split(",")
    engines = {n: FasterWhisperEngine(path, cfg.compute_type, cfg.cpu_threads, cfg.beam_size, cfg.language,
                                      cfg.vad_filter, **{k: v for k, v in VARIANTS[n].items() if k not in STREAM_KEYS})
               for n in names}
    # a variant's streaming settings over the defaults, the commit gate and the boundary rule off unless it
    # names them (every variant before them was measured without them)
    configs = {n: cfg.model_copy(update={"commit_probability": None, "boundary_commit": False,
                                         **{k: v for k, v in VARIANTS[n].items() if k in STREAM_KEYS}})
               for n in names}
    sets = clip_sets()
    report: dict = {"chunk_s": args.chunk_s, "asr": cfg.model_dump(), "variants": {n: VARIANTS[n] for n in names},
                    "sets": {}}
    for set_name in args.sets.split(","):
        clips = sets[set_name]
        acc = {n: {"refs": [], "chunked": [], "whole": [], "asr_s": 0.0, "audio_s": 0.0, "delays": []}
               for n in names}
        for clip_id, audio, ref in clips:
            for n in names:  # interleaved: noise hits every variant alike
                hyp, spent, delays = stream(engines[n], audio, configs[n], args.chunk_s)
                whole = " ".join(s.text for s in engines[n].transcribe(audio))
                a = acc[n]
                a["refs"].append(normalise(ref))
                a["chunked"].append(normalise(hyp))
                a["whole"].append(normalise(whole))
                a["asr_s"] += spent
                a["delays"] += delays
                a["audio_s"] += len(audio) / RATE
                print(f"{set_name} {clip_id} {n}: asr {spent:.2f}s for {len(audio) / RATE:.1f}s", flush=True)
        report["sets"][set_name] = {n: summary(a, args.chunk_s) for n, a in acc.items()}
    save_result("asr_stream", args.label, report)
    print(json.dumps(report["sets"], indent=1))


if __name__ == "__main__":
    main()
