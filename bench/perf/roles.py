"""Added latency of role labelling per commit, next to ASR on the same audio (same run).

    . scripts/env.sh && python -m bench.perf.roles [--out bench/results/roles.json]

The pipeline labels each commit's new segments before committing them, so the
Roles call adds to the time from audio to transcript.  For a commit of one
~3 s segment (a 5 s ASR buffer) from data/dev/consultation_audio, with the
session's earlier segments as context (0 to 1000 segments; every earlier word
gets a voice posterior, the mixture is fitted on at most 2000 words), this times
``attach_audio + label`` (what the Roles deployment does) and the
faster-whisper tiny.en transcription of the same buffer, and reports their ratio.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from bench.harness.data import DEV
from serve_app.engines.asr.models import resolve_whisper_model
from serve_app.engines.asr.whisper import FasterWhisperEngine
from serve_app.engines.roles.engine import RoleEngine
from serve_app.engines.roles.text_model import RoleTextModel
from serve_app.engines.roles.voice_features import warm_up
from serve_app.settings import Settings

RATE = 16000


def _segments(asr: FasterWhisperEngine, samples: np.ndarray) -> list[dict]:
    out = []
    for seg in asr.transcribe(samples):
        words = [{"text": w.text.strip(), "start": w.start, "end": w.end} for w in seg.words]
        out.append({"text": seg.text, "start": seg.start, "end": seg.end, "words": words, "role": None})
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="bench/results/roles.json")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    audio, _ = sf.read(DEV / "consultation_audio" / "day1_consultation01.synth.flac", dtype="float32")
    asr = FasterWhisperEngine(resolve_whisper_model("tiny.en", str(Settings().resolved_model_cache())),
                              beam_size=1)
    engine = RoleEngine(RoleTextModel.load())
    warm_up()
    base = _segments(asr, audio)
    engine.attach_audio(base, audio[None, :], RATE, 0.0)
    for i, seg in enumerate(base):
        seg.update(id=f"s{i}", role="doctor", role_confidence=0.9, role_source="model")
    rows = []
    for n_context in (0, 25, 100, 300, 1000):
        context = [dict(base[i % len(base)], id=f"s{i}") for i in range(n_context)]
        target = base[len(base) // 2]
        a = max(0.0, target["start"] - 1.0)
        buffer = audio[int(a * RATE): int((a + 5.0) * RATE)]
        new = {k: v for k, v in target.items() if not k.startswith("_") and k not in ("id", "role_source")}
        new["role"] = None
        roles_s, asr_s = [], []
        for _ in range(args.repeats):
            t = time.perf_counter()
            asr.transcribe(buffer)
            asr_s.append(time.perf_counter() - t)
            t = time.perf_counter()
            segs = [dict(new)]
            engine.attach_audio(segs, buffer[None, :], RATE, a)
            engine.label(context, segs)
            roles_s.append(time.perf_counter() - t)
        row = {"context_segments": n_context, "context_words": sum(len(c["words"]) for c in context),
               "roles_ms_p50": round(1000 * statistics.median(roles_s), 1),
               "asr_ms_p50": round(1000 * statistics.median(asr_s), 1),
               "roles_over_asr": round(statistics.median(roles_s) / statistics.median(asr_s), 3)}
        rows.append(row)
        print(json.dumps(row))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"buffer_s": 5.0, "new_segments_per_commit": 1, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
