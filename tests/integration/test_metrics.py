"""Application metrics on Ray's Prometheus endpoint: a consultation streamed in real time (audio and
a typed line with a planted name), finished, accepted and published moves every metric the ops
dashboard charts, with the Serve tags on replica metrics and no PHI anywhere in the scrape."""
from __future__ import annotations

import time

from bench.harness.data import DEV, librispeech_clips, wav_chunks
from bench.harness.metrics import scrape as _scrape
from bench.harness.metrics import total as _total

PLANTED = "Ottoline Vanterpool"


EXPECTED = {  # sample -> labels that must grow during the test
    ("ray_scribe_chunk_lag_seconds_count", ()): 1,
    ("ray_scribe_word_latency_seconds_count", (("kind", "committed"),)): 1,
    ("ray_scribe_word_latency_seconds_count", (("kind", "tentative"),)): 1,
    ("ray_scribe_audio_seconds_total", ()): 8,
    ("ray_scribe_asr_real_time_factor_count", (("deployment", "ASR"),)): 1,
    ("ray_scribe_stage_busy_seconds_total", (("stage", "asr"),)): 1e-3,
    ("ray_scribe_stage_busy_seconds_total", (("stage", "pii"),)): 1e-3,
    ("ray_scribe_stage_busy_seconds_total", (("stage", "roles"),)): 1e-3,
    ("ray_scribe_stage_busy_seconds_total", (("stage", "notes"),)): 1e-3,
    ("ray_scribe_stage_busy_seconds_total", (("stage", "guardrails"),)): 1e-3,
    ("ray_scribe_note_write_seconds_count", (("deployment", "Notes"),)): 1,
    ("ray_scribe_final_note_seconds_count", ()): 1,
    ("ray_scribe_note_answers_total", (("schema_valid", "true"),)): 1,
    ("ray_scribe_phi_detections_total", (("entity_type", "PERSON"),)): 1,
    ("ray_scribe_feedback_total", (("outcome", "spooled"),)): 1,
    ("ray_scribe_feedback_total", (("outcome", "published"),)): 1,
    # the state polls (wait_finished) are answered in the Ingress's HTTP server (http.server_state_reads)
    ("ray_scribe_state_reads_total", (("status", "200"),)): 1,
}


def test_a_consultation_moves_every_metric_on_the_prometheus_endpoint_and_none_carries_phi(serve_app, alice):
    from bench.harness.serve import call_deployment

    _, before = _scrape(serve_app.metrics_url)
    clip = librispeech_clips()[0]
    chunks = wav_chunks(DEV / clip["wav"], 2.0)[:6]
    sid = alice.create_session()
    typed = {"segments": [{"text": f"My name is {PLANTED} and the cough started a week ago.", "role": "patient"}]}
    assert alice.http.post(f"/v1/sessions/{sid}/segments", json=typed).status_code == 202
    t0 = time.monotonic()
    for seq, chunk in enumerate(chunks):  # real time: a chunk every 2 s, as a recording sends them
        assert alice.put_chunk(sid, seq, chunk).status_code == 202
        time.sleep(max(0.0, t0 + 2.0 * (seq + 1) - time.monotonic()))
    alice.finish(sid)
    state = alice.wait_finished(sid, timeout=600)
    assert state["note_version"] >= 1
    reply = alice.http.post(f"/v1/sessions/{sid}/feedback", json={"action": "accept",
                                                                   "note_version": state["note_version"]})
    assert reply.status_code == 201, reply.text
    # hurry publication; the Flywheel's own loop (every 2 s) may already have published it, so the
    # count may be 0 here: `feedback_total{outcome="published"}` below is what proves it happened
    call_deployment("Flywheel", "publish_now")

    deadline = time.monotonic() + 90  # Ray exports every few seconds
    while True:
        text, after = _scrape(serve_app.metrics_url)
        grown = {key: _total(after, key[0], **dict(key[1])) - _total(before, key[0], **dict(key[1]))
                 for key in EXPECTED}
        missing = {key: grown[key] for key, least in EXPECTED.items() if grown[key] < least}
        if not missing or time.monotonic() > deadline:
            break
        time.sleep(3)
    assert not missing, f"metrics that did not move: {missing}"
    assert _total(after, "ray_scribe_pending_chunks") >= 0
    lag_sum = _total(after, "ray_scribe_chunk_lag_seconds_sum") - _total(before, "ray_scribe_chunk_lag_seconds_sum")
    assert 0 < lag_sum < 600  # seconds, not milliseconds or timestamps
    for value in (PLANTED, *PLANTED.split(), sid):
        assert value not in text  # no value, name or session id in any series
