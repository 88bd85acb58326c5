"""Bench: the WhisperX ASR backend against faster-whisper, streamed as the pipeline streams (issue 17).

    make bench-whisperx    # WhisperX's virtualenv once, then the whole-clip comparison and this
    . scripts/env.sh && python -m bench.perf.asr_backends [--sets tune,held_out]

The WhisperX side is the real ASR deployment of a Serve app started here with ``asr.backend: whisperx``
(its replica runs in WhisperX's own virtualenv through Ray's runtime_env), called through a Serve
handle; the faster-whisper side is the shipped engine (``serve_config.yaml``'s ``asr``) in this process.
Both are fed by :func:`bench.perf.asr_stream.stream`: every 2 s the buffer from the cursor minus the
left context is transcribed and the shipped commit policy decides what to commit, so chunked WER,
ASR seconds per audio second (each call timed; WhisperX's include the replica call, a few ms) and
commit delays compare like for like.  Whole-clip WER is ``bench.perf.whisperx_compare``'s (a whole
consultation is more than the 4 MB a Serve call carries in the high-throughput mode's gRPC).
Clip sets: the frozen ``tune`` / ``held_out`` split of ``bench.perf.asr_stream`` (WhisperX settings,
``--whisperx``, chosen on ``tune`` only); backends interleaved clip by clip.
Result: ``bench/results/asr_backends[_<label>].json``.
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np

from bench.harness.data import normalise, save_result
from bench.harness.serve import call_deployment, start_serve_app, stop_serve_app
from bench.perf.asr_stream import RATE, clip_sets, stream, summary


class DeploymentEngine:
    """The Serve app's ASR deployment behind the engine protocol (one buffer per call)."""

    def transcribe(self, samples: np.ndarray):
        return call_deployment("ASR", "transcribe", samples)


def main() -> None:
    import yaml

    from bench.harness.serve import ROOT
    from deployments.asr import build_asr_engine
    from serve_app.config import AsrConfig

    parser = argparse.ArgumentParser()
    parser.add_argument("--sets", default="tune,held_out")
    parser.add_argument("--chunk-s", type=float, default=2.0)
    parser.add_argument("--label", default="")
    parser.add_argument("--whisperx", default="{}", help='asr.whisperx overrides as JSON, e.g. \'{"chunk_size_s": 4}\'')
    args = parser.parse_args()
    shipped = AsrConfig(**yaml.safe_load((ROOT / "serve_config.yaml").read_text())["applications"][0]["args"]["asr"])
    whisperx = json.loads(args.whisperx)
    start_serve_app({"asr": {"backend": "whisperx", "whisperx": whisperx}, "notes": {"enabled": False}})
    try:
        info = call_deployment("ASR", "info")
        t0 = time.perf_counter()
        engines = {"faster_whisper": build_asr_engine(shipped, "/tmp"), "whisperx": DeploymentEngine()}
        engines["whisperx"].transcribe(np.zeros(RATE, dtype=np.float32))  # the replica is up and warm
        report: dict = {"chunk_s": args.chunk_s, "asr": shipped.model_dump(), "whisperx_replica": info,
                        "whisperx_overrides": whisperx,
                        "sets": {}}
        sets = clip_sets()
        for set_name in args.sets.split(","):
            acc = {n: {"refs": [], "chunked": [], "asr_s": 0.0, "audio_s": 0.0, "delays": []}
                   for n in engines}
            for clip_id, audio, ref in sets[set_name]:
                for name, engine in engines.items():  # interleaved: the machine's noise hits both
                    hyp, spent, delays = stream(engine, audio, shipped, args.chunk_s)
                    a = acc[name]
                    a["refs"].append(normalise(ref))
                    a["chunked"].append(normalise(hyp))
                    a["asr_s"] += spent
                    a["audio_s"] += len(audio) / RATE
                    a["delays"] += delays
                    print(f"{set_name} {clip_id} {name}: asr {spent:.2f}s for {len(audio) / RATE:.1f}s", flush=True)
            report["sets"][set_name] = {n: summary(a, args.chunk_s) for n, a in acc.items()}
        report["wall_s"] = round(time.perf_counter() - t0, 1)
    finally:
        stop_serve_app()
    save_result("asr_backends", args.label, report)
    print(json.dumps(report["sets"], indent=1))


if __name__ == "__main__":
    main()
