"""Bench: WhisperX against the service's faster-whisper engine on ``data/dev`` (issue 17, opt-in).

    make bench-whisperx        # creates WhisperX's own virtualenv once, then runs this

WhisperX cannot live in the project's environment (it pins torch 2.8 and transformers<5; vLLM pins
others), so ``scripts/whisperx_env.sh`` installs it in its own virtualenv and records what that cost;
this bench runs ``bench/whisperx/run_whisperx.py`` there on the same clips with the same local
CTranslate2 model (the shipped ``tiny.en``), and the service's own engine here, in the same run.

Sides, all whole-clip, greedy, temperature 0, 2 threads:
* ``service``: :class:`~serve_app.engines.asr.whisper.FasterWhisperEngine` as the service builds it
  (Silero VAD filter, word timestamps), 30 s windows;
* ``faster_whisper_batched``: faster-whisper's ``BatchedInferencePipeline`` (the batched-inference
  idea that came from WhisperX) with word timestamps, in this environment;
* ``whisperx``: WhisperX 3.8.6's pipeline (its bundled pyannote VAD, one batched call per clip),
  without its word alignment, whose wav2vec2 model it downloads at run time (not reachable here).

Clip sets as in ``bench.perf.asr_stream`` (frozen there): ``tune`` (3 LibriSpeech clips + the first
PriMock57 two-voice rendering) and ``held_out`` (the other two renderings).  Reported per side and set:
WER (jiwer, normalised text) and ASR seconds per audio second; plus WhisperX's install cost and model
load time.  Result: ``bench/results/whisperx_compare.json``.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import jiwer

from bench.harness.data import RESULTS, normalise
from bench.perf.asr_stream import clip_paths
from serve_app.config import AsrConfig

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(os.environ.get("WHISPERX_VENV", Path.home() / ".cache/clinical-scribe/whisperx-venv"))
RATE = 16000


def run_whisperx(model_dir: str, sets: dict, threads: int) -> dict:
    python = VENV / "bin" / "python"
    if not python.exists():
        raise SystemExit(f"no WhisperX environment at {VENV}: run `bash scripts/whisperx_env.sh` first")
    with tempfile.TemporaryDirectory() as tmp:
        listing, out = Path(tmp) / "clips.json", Path(tmp) / "out.json"
        listing.write_text(json.dumps([{"id": i, "path": str(p)} for s in sets.values() for i, p, _ in s]))
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": ""}
        subprocess.run([str(python), str(ROOT / "bench/whisperx/run_whisperx.py"), model_dir, str(listing), str(out),
                        "--threads", str(threads)], check=True, env=env)
        return json.loads(out.read_text())


def main() -> None:
    from faster_whisper import BatchedInferencePipeline, WhisperModel, decode_audio

    from serve_app.engines.asr.models import resolve_whisper_model
    from serve_app.engines.asr.whisper import FasterWhisperEngine

    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    cfg = AsrConfig()
    model_dir = resolve_whisper_model(cfg.model, "/tmp")
    sets = clip_paths()
    service = FasterWhisperEngine(model_dir, cfg.compute_type, args.threads, 1, cfg.language, cfg.vad_filter,
                                  window_floor_s=None, temperatures=(0.0,), batched=False)
    batched = BatchedInferencePipeline(WhisperModel(model_dir, device="cpu", compute_type=cfg.compute_type,
                                                    cpu_threads=args.threads))

    def batched_text(audio) -> str:
        segments, _ = batched.transcribe(audio, language=cfg.language, beam_size=1, temperature=0.0,
                                         word_timestamps=True, batch_size=8)
        return " ".join(s.text.strip() for s in segments)

    here: dict[str, dict[str, dict]] = {"service": {}, "faster_whisper_batched": {}}
    for set_clips in sets.values():
        for clip_id, path, _ in set_clips:
            audio = decode_audio(str(path), sampling_rate=RATE)
            for side, fn in (("service", lambda a: " ".join(s.text for s in service.transcribe(a))),
                             ("faster_whisper_batched", batched_text)):
                t0 = time.perf_counter()
                text = fn(audio)
                here[side][clip_id] = {"text": text, "seconds": time.perf_counter() - t0, "audio_s": len(audio) / RATE}
            print(f"{clip_id}: service {here['service'][clip_id]['seconds']:.2f}s, "
                  f"batched {here['faster_whisper_batched'][clip_id]['seconds']:.2f}s", flush=True)
    wx = run_whisperx(model_dir, sets, args.threads)
    by_side = {**here, "whisperx": wx["clips"]}
    report: dict = {"model": cfg.model, "threads": args.threads, "whisperx_load_s": wx["load_s"],
                    "whisperx_versions": wx["versions"], "sets": {}}
    install = VENV / "install.json"
    if install.exists():
        report["whisperx_install"] = json.loads(install.read_text())
    for set_name, set_clips in sets.items():
        refs = [normalise(ref) for _, _, ref in set_clips]
        report["sets"][set_name] = {
            side: {"clips": len(set_clips),
                   "audio_s": round(sum(out[c]["audio_s"] for c, _, _ in set_clips), 1),
                   "wer": round(jiwer.wer(refs, [normalise(out[c]["text"]) for c, _, _ in set_clips]), 4),
                   "asr_s_per_audio_s": round(sum(out[c]["seconds"] for c, _, _ in set_clips)
                                              / sum(out[c]["audio_s"] for c, _, _ in set_clips), 4)}
            for side, out in by_side.items()}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "whisperx_compare.json").write_text(json.dumps(report, indent=1))
    print(json.dumps(report["sets"], indent=1))


if __name__ == "__main__":
    main()
