"""Runs inside WhisperX's own virtualenv (``scripts/whisperx_env.sh``), never in the project's.

    <whisperx-venv>/bin/python bench/whisperx/run_whisperx.py MODEL_DIR CLIPS_JSON OUT_JSON [--threads 2]

WhisperX 3.8.6 pins torch 2.8 and transformers<5, which cannot share an environment with vLLM, so the
comparison bench (``bench.perf.whisperx_compare``) calls this script in that environment with the
same local CTranslate2 model the service uses and the clips as file paths.  WhisperX's pipeline:
its bundled pyannote VAD cuts the audio into speech regions, which are transcribed in one batched
faster-whisper call (``batch_size``), greedy, no temperature fallback.  Its word alignment
(``whisperx.align``) needs a wav2vec2 model downloaded at run time (torchaudio or the Hugging Face
hub); with no model path given it is not run, and the output has segment times only.

Writes ``{"clips": {id: {"text", "seconds", "audio_s"}}, "load_s", "versions"}``.
"""
from __future__ import annotations

import argparse
import json
import time
from importlib.metadata import version


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("model_dir")
    parser.add_argument("clips_json", help='[{"id": ..., "path": ...}, ...]')
    parser.add_argument("out_json")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=8)
    args = parser.parse_args()

    import torch
    import whisperx
    from faster_whisper import decode_audio  # WhisperX's own dependency; decodes with PyAV, no ffmpeg binary

    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    model = whisperx.load_model(args.model_dir, "cpu", compute_type="int8", language="en", threads=args.threads,
                                asr_options={"beam_size": 1, "temperatures": [0.0]}, local_files_only=True)
    load_s = time.perf_counter() - t0
    clips = {}
    for clip in json.loads(open(args.clips_json).read()):
        audio = decode_audio(clip["path"], sampling_rate=16000)
        t = time.perf_counter()
        result = model.transcribe(audio, batch_size=args.batch_size, language="en")
        spent = time.perf_counter() - t
        clips[clip["id"]] = {"text": " ".join(s["text"].strip() for s in result["segments"]),
                             "seconds": round(spent, 3), "audio_s": round(len(audio) / 16000, 2),
                             "segments": len(result["segments"])}
    versions = {name: version(name) for name in ("whisperx", "torch", "faster-whisper", "ctranslate2",
                                                  "pyannote.audio", "transformers")}
    with open(args.out_json, "w") as out:
        json.dump({"clips": clips, "load_s": round(load_s, 2), "versions": versions}, out, indent=1)


if __name__ == "__main__":
    main()
