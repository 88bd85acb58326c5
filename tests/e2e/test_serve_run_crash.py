"""Ops' command for real: `serve run serve_config.yaml`, killed with SIGKILL mid-session.

After a restart every acknowledged chunk is in the transcript exactly once, and
the transcript equals the one from an uninterrupted run.
"""
from __future__ import annotations

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
    assert normalise(client.transcript(state)) == expected
