"""Every error path of API.md answers its 4xx with the typed error body."""
from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf

from bench.harness.data import DEV, librispeech_clips, tone, wav_chunks


def _err(r, status, code=None):
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    assert set(body) == {"error"} and isinstance(body["error"]["message"], str) and body["error"]["message"]
    if code:
        assert body["error"]["code"] == code, body
    return body


def _wav(seconds: float) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, tone(seconds), 16000, format="WAV", subtype="PCM_16")
    return buf.getvalue()


@pytest.fixture()
def sid(alice):
    return alice.create_session()


def test_auth_errors(serve_app, alice, sid):
    import httpx

    anon = httpx.Client(base_url=serve_app.url)
    assert anon.get("/healthz").status_code == 200
    _err(anon.get("/v1/sessions"), 401, "missing_token")
    _err(anon.get("/v1/sessions", headers={"Authorization": "Bearer nope-nope-nope"}), 401, "invalid_token")
    _err(anon.get("/v1/sessions", headers={"Authorization": "Basic abc"}), 401, "invalid_token")
    _err(anon.get(f"/v1/sessions/{sid}"), 401)
    _err(anon.get("/openapi.json"), 401)
    assert alice.http.get("/openapi.json").json()["paths"]["/v1/sessions/{sid}/audio/{seq}"]


def test_other_clinicians_get_404(bob, alice, sid):
    chunk = _wav(1.0)
    _err(bob.http.get(f"/v1/sessions/{sid}"), 404, "session_not_found")
    _err(bob.put_chunk(sid, 0, chunk), 404, "session_not_found")
    _err(bob.http.post(f"/v1/sessions/{sid}/segments", json={"segments": [{"text": "hi"}]}), 404)
    _err(bob.http.post(f"/v1/sessions/{sid}/finish", json={}), 404)
    _err(bob.http.get(f"/v1/sessions/{sid}/events"), 404)
    _err(bob.http.delete(f"/v1/sessions/{sid}"), 404)
    assert sid not in [s["session_id"] for s in bob.http.get("/v1/sessions").json()]
    assert sid in [s["session_id"] for s in alice.http.get("/v1/sessions").json()]


def test_unknown_session_and_route(alice):
    _err(alice.http.get("/v1/sessions/does-not-exist"), 404, "session_not_found")
    _err(alice.put_chunk("does-not-exist", 0, _wav(1.0)), 404)
    _err(alice.http.get("/v1/nothing-here"), 404, "not_found")
    _err(alice.http.delete("/v1/sessions"), 405, "method_not_allowed")


def test_bad_audio(alice, sid):
    _err(alice.put_chunk(sid, 0, b"RIFF\x00\x00garbage-not-audio", "audio/wav"), 422, "invalid_audio")
    _err(alice.put_chunk(sid, 0, b"", "audio/flac"), 422, "empty_audio")
    _err(alice.put_chunk(sid, 0, _wav(1.0), "video/mp4"), 415, "unsupported_media_type")
    _err(alice.put_chunk(sid, 0, b"\x00\x01\x02", "audio/L16;rate=16000;channels=1"), 422, "invalid_audio")
    _err(alice.put_chunk(sid, 0, b"\x00\x01", "audio/L16;channels=1"), 415)
    r = alice.http.put(f"/v1/sessions/{sid}/audio/0", content=_wav(1.0))  # no Content-Type
    _err(r, 415)
    _err(alice.put_chunk(sid, -1, _wav(1.0)), 422, "invalid_seq")
    _err(alice.http.put(f"/v1/sessions/{sid}/audio/abc", content=_wav(1.0),
                        headers={"Content-Type": "audio/wav"}), 422, "validation_error")
    assert alice.state(sid)["chunks"]["received"] == 0


def test_oversize(alice, sid):
    _err(alice.put_chunk(sid, 0, _wav(31.0)), 413, "chunk_too_long")
    _err(alice.put_chunk(sid, 0, b"\x00" * (8 * 1024 * 1024 + 2), "audio/L16;rate=16000;channels=1"),
         413, "payload_too_large")
    big = {"segments": [{"text": "x" * 1000}] * 1200}
    _err(alice.http.post(f"/v1/sessions/{sid}/segments", json=big), 413)


def test_malformed_and_invalid_json(alice, sid):
    _err(alice.http.post("/v1/sessions", content=b"{not json", headers={"Content-Type": "application/json"}),
         400, "malformed_json")
    _err(alice.http.post("/v1/sessions", json={"channels": {"0": "surgeon"}}), 422, "validation_error")
    _err(alice.http.post(f"/v1/sessions/{sid}/segments", content=b"[1,2", headers={"Content-Type": "application/json"}),
         400, "malformed_json")
    _err(alice.http.post(f"/v1/sessions/{sid}/segments", json={"segments": []}), 422)
    _err(alice.http.post(f"/v1/sessions/{sid}/segments", json={"segments": [{"text": "hi", "role": "nurse"}]}), 422)
    _err(alice.http.post(f"/v1/sessions/{sid}/segments", json={"segments": [{"text": "a", "start": 5, "end": 1}]}),
         422, "invalid_times")


def test_conflicting_repeated_and_late_chunks(alice, sid):
    chunks = wav_chunks(DEV / librispeech_clips()[1]["wav"], 2.0)
    assert alice.put_chunk(sid, 0, chunks[0]).status_code == 202
    again = alice.put_chunk(sid, 0, chunks[0])
    assert again.status_code == 202 and again.json() == {"seq": 0, "duplicate": True}
    _err(alice.put_chunk(sid, 0, chunks[1]), 409, "chunk_conflict")
    alice.finish(sid)
    _err(alice.put_chunk(sid, 1, chunks[1]), 409, "session_finished")
    _err(alice.http.post(f"/v1/sessions/{sid}/segments", json={"segments": [{"text": "late"}]}), 409)
    state = alice.wait_finished(sid)
    assert state["chunks"]["received"] == 1


def test_idempotency_keys(alice):
    headers = {"Idempotency-Key": "create-123"}
    a = alice.http.post("/v1/sessions", json={}, headers=headers)
    b = alice.http.post("/v1/sessions", json={}, headers=headers)
    assert a.status_code == b.status_code == 201
    assert a.json() == b.json()
    sid = a.json()["session_id"]
    body = {"segments": [{"text": "The patient reports a headache.", "role": "patient"}]}
    r1 = alice.http.post(f"/v1/sessions/{sid}/segments", json=body, headers={"Idempotency-Key": "seg-1"})
    r2 = alice.http.post(f"/v1/sessions/{sid}/segments", json=body, headers={"Idempotency-Key": "seg-1"})
    assert r1.status_code == r2.status_code == 202 and r1.json() == r2.json()
    alice.finish(sid)
    state = alice.wait_finished(sid)
    assert [s["text"] for s in state["segments"]] == ["The patient reports a headache."]
    assert state["segments"][0]["role"] == "patient"


def test_delete_erases_session(alice, sid):
    r = alice.http.post(f"/v1/sessions/{sid}/segments", json={"segments": [{"text": "Call Mary Jones."}]})
    assert r.status_code == 202
    assert alice.http.delete(f"/v1/sessions/{sid}").status_code == 204
    _err(alice.http.get(f"/v1/sessions/{sid}"), 404)
    _err(alice.http.get(f"/v1/sessions/{sid}/names"), 404)


def test_other_content_types_are_decoded(alice, sid):
    """FLAC, OGG and raw L16 (stereo, 8 kHz) chunks are all accepted and transcribed."""
    clip = DEV / librispeech_clips()[1]["wav"]
    audio, rate = sf.read(clip, dtype="int16")
    half = len(audio) // 2
    flac, ogg = io.BytesIO(), io.BytesIO()
    sf.write(flac, audio[:half], rate, format="FLAC")
    stereo = np.stack([audio[half:], np.zeros_like(audio[half:])], axis=1)
    sf.write(ogg, stereo, rate, format="OGG", subtype="VORBIS")
    assert alice.put_chunk(sid, 0, flac.getvalue(), "audio/flac").status_code == 202
    assert alice.put_chunk(sid, 1, ogg.getvalue(), "audio/ogg").status_code == 202
    pcm8k = audio[::2].astype("<i2").tobytes()
    assert alice.put_chunk(sid, 2, pcm8k, "audio/L16;rate=8000;channels=1").status_code == 202
    alice.finish(sid)
    state = alice.wait_finished(sid)
    assert state["chunks"]["processed"] == 3
    text = " ".join(s["text"] for s in state["segments"]).lower()
    assert "belly" in text or "stuff" in text
