"""Role accuracy through the HTTP API of a real Serve app (notes off: roles only).

    . scripts/env.sh && python -m bench.eval.roles [--out bench/results/eval_roles.json]

* PriMock57 dev transcripts (gold roles, one microphone per speaker) posted as
  segments with ``role: null``: segment and word-weighted accuracy.
* data/dev/consultation_audio: the mono files as 2 s WAV chunks (voices +
  text), and the stereo files with ``channels: {"0": "doctor", "1": "patient"}``:
  word-weighted accuracy by time overlap with the timed gold segments.
* ACI-Bench and MTS-Dialog dev dialogues posted with null roles, scored
  against their tags (noisy: reported, not tuned to).
None of these items is in the role model's training data (see role_model.json).
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from bench.eval.role_scores import score_by_segment, score_by_time
from bench.fit.corpora import dialogue_sessions, primock_sessions
from bench.harness.client import ScribeClient
from bench.harness.data import DEV, jsonl, wav_chunks
from bench.harness.serve import TOKENS, start_serve_app, stop_serve_app

AUDIO = DEV / "consultation_audio"


def _post_text(client: ScribeClient, gold: list[dict]) -> list[dict]:
    sid = client.create_session()
    body = {"segments": [{"text": g["text"], "role": None} for g in gold]}
    assert client.http.post(f"/v1/sessions/{sid}/segments", json=body).status_code == 202
    client.finish(sid)
    return client.wait_finished(sid, timeout=900)["segments"]


def _post_audio(client: ScribeClient, path: Path, channels: dict | None) -> list[dict]:
    sid = client.create_session(**({"channels": channels} if channels else {}))
    for seq, chunk in enumerate(wav_chunks(path, seconds=2.0)):
        r = client.put_chunk(sid, seq, chunk)
        while r.status_code == 503:
            time.sleep(float(r.headers.get("Retry-After", "1")))
            r = client.put_chunk(sid, seq, chunk)
        assert r.status_code == 202, r.text
    client.finish(sid)
    return client.wait_finished(sid, timeout=1800)["segments"]


def _total(parts: dict) -> dict:
    """Pooled accuracy over the items of one dataset."""
    seg = sum(p["segments"] for p in parts.values())
    seg_ok = sum(p["segments"] * (p["segment_accuracy"] or 0) for p in parts.values())
    words = sum(p["words"] for p in parts.values())
    words_ok = sum(p["words"] * (p["word_accuracy"] or 0) for p in parts.values())
    return {"segments": seg, "segment_accuracy": round(seg_ok / seg, 4), "words": words,
            "word_accuracy": round(words_ok / words, 4),
            "unlabelled": sum(p["unlabelled"] for p in parts.values())}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="bench/results/eval_roles.json")
    args = parser.parse_args()
    app = start_serve_app({"notes": {"enabled": False}})
    client = ScribeClient(app.url, TOKENS["alice"], timeout=120)
    report: dict = {}
    try:
        primock = primock_sessions(DEV / "primock57")
        report["primock57_text"] = {k: score_by_segment(v, _post_text(client, v)) for k, v in primock.items()}
        names = sorted(p.name.split(".")[0] for p in AUDIO.glob("*.synth.flac"))
        for label, suffix, channels in (("audio_mono", ".synth.flac", None),
                                        ("audio_stereo_channels", ".synth.stereo.flac",
                                         {"0": "doctor", "1": "patient"})):
            report[label] = {n: score_by_time(jsonl(AUDIO / f"{n}.synth.segments.jsonl"),
                                              _post_audio(client, AUDIO / f"{n}{suffix}", channels))
                             for n in names}
        for name in ("aci_bench", "mts_dialog"):
            sessions = dialogue_sessions(DEV / f"{name}.jsonl")
            report[f"{name}_text"] = {k: score_by_segment(v, _post_text(client, v)) for k, v in sessions.items()}
    finally:
        stop_serve_app()
    summary = {name: _total(parts) for name, parts in report.items()}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"summary": summary, "items": report}, indent=1))
    for name, s in summary.items():
        print(f"{name:<24} segments {s['segments']:4d}  segment acc {s['segment_accuracy']:.4f}  "
              f"words {s['words']:5d}  word-weighted acc {s['word_accuracy']:.4f}  unlabelled {s['unlabelled']}")


if __name__ == "__main__":
    main()
