"""Ops' command for real: `serve run serve_config.yaml`, killed with SIGKILL mid-session.

After a restart every acknowledged chunk is in the transcript exactly once: every chunk is
processed, the words' timings run forward, and the transcript is the one from an
uninterrupted run up to how one word splits (where a streaming decode step ends depends on when chunks
arrive, so "fattened" may come out "fat and": two word edits; a lost or doubled 2 s chunk is five or more).
"""
from __future__ import annotations

import jiwer

from bench.harness.client import ScribeClient
from bench.harness.data import DEV, librispeech_clips, normalise, wav_chunks


def test_sigkill_mid_session_loses_and_duplicates_nothing(serve_run):
    clip = librispeech_clips()[0]
    chunks = wav_chunks(DEV / clip["wav"], 2.0)
    cold = serve_run.start()
    print(f"\ncold start to healthy /healthz: {cold:.1f}s")
    client = ScribeClient(serve_run.url, serve_run.token)

    baseline = client.create_session()
    for seq, chunk in enumerate(chunks):
        assert client.put_chunk(baseline, seq, chunk).status_code == 202
    client.finish(baseline)
    expected = normalise(client.transcript(client.wait_finished(baseline)))

    sid = client.create_session()
    for seq in range(3):
        assert client.put_chunk(sid, seq, chunks[seq]).status_code == 202
    serve_run.kill()
    serve_run.start()
    client = ScribeClient(serve_run.url, serve_run.token)
    assert client.state(sid)["chunks"]["received"] == 3
    for seq in range(3, len(chunks)):
        assert client.put_chunk(sid, seq, chunks[seq]).status_code == 202
    client.finish(sid)
    state = client.wait_finished(sid)
    assert state["chunks"]["processed"] == len(chunks)
    got = normalise(client.transcript(state))
    edits = jiwer.process_words(expected, got)
    assert edits.substitutions + edits.deletions + edits.insertions <= 2, (expected, got)
    starts = [w["start"] for s in state["segments"] for w in s.get("words", [])]
    assert starts and starts == sorted(starts)  # a replayed chunk's words would start earlier again
