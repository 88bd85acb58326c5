"""Live-latency metrics from the store's events (``serve_app.sessions.event_metrics``) and the
metric registry's contract (``serve_app.metrics``): values, tags, never PHI, a no-op outside Ray."""
from __future__ import annotations

import pytest

from serve_app.metrics import METRICS, record
from serve_app.sessions.event_metrics import EventMetrics


class Sink:
    def __init__(self):
        self.seen: list[tuple[str, float, dict]] = []

    def __call__(self, name: str, value: float, **tags: str) -> None:
        assert set(tags) == set(METRICS[name].tags)  # the same check record() makes
        self.seen.append((name, round(value, 3), tags))

    def values(self, name: str, **tags: str) -> list[float]:
        return [v for n, v, t in self.seen if n == name and t == tags]


def _ev(kind: str, ts: float, **data) -> dict:
    return {"id": 0, "type": kind, "ts": ts, "data": data}


def _words(*ends: float) -> list[dict]:
    return [{"text": f" w{k}", "start": end - 0.3, "end": end} for k, end in enumerate(ends)]


def test_chunk_lag_word_latency_and_pending_chunks_follow_the_events():
    sink = Sink()
    m = EventMetrics(sink)
    m("s", _ev("chunk_received", 100.0, seq=0, duration_s=2.0))
    m("s", _ev("chunk_received", 102.0, seq=1, duration_s=2.0))
    m("s", _ev("chunk_processed", 100.5, seq=0, offset_s=0.0, segments=[{"words": _words(1.0)}]))
    m("s", _ev("words_tentative", 100.6, seq=0, words=_words(1.8)))
    m("s", _ev("chunk_processed", 103.0, seq=1, offset_s=2.0, segments=[{"words": _words(1.8, 3.5)}]))
    m("s", _ev("words_tentative", 103.1, seq=1, words=_words(3.9)))

    assert sink.values("chunk_lag_seconds") == [0.5, 1.0]
    assert sink.values("pending_chunks") == [1, 2, 1, 0]
    assert sink.values("audio_seconds_total") == [2.0, 2.0]
    # committed: w@1.0 (chunk 0, 0.5 s), w@1.8 (chunk 0 arrived at 100: 3.0 s), w@3.5 (chunk 1: 1.0 s)
    assert sink.values("word_latency_seconds", kind="committed") == [0.5, 3.0, 1.0]
    # tentative: first shown right after their chunk was processed
    assert sink.values("word_latency_seconds", kind="tentative") == [0.6, 1.1]


def test_final_note_latency_warnings_by_kind_and_forgetting_a_session():
    sink = Sink()
    m = EventMetrics(sink)
    m("s", _ev("chunk_received", 1.0, seq=0, duration_s=2.0))
    m("s", _ev("finish_requested", 10.0))
    m("s", _ev("note_updated", 12.0, version=1, final=False))
    m("s", _ev("note_updated", 14.5, version=2, final=True))
    m("s", _ev("warnings_updated", 15.0, note_version=2, warnings=[
        {"kind": "dose", "note_item": "n0"}, {"kind": "unsupported", "note_item": "n1"},
        {"kind": "dose", "note_item": "n2"}]))
    assert sink.values("final_note_seconds") == [4.5]
    assert sink.values("note_warnings_total", kind="dose") == [1, 1]
    assert sink.values("note_warnings_total", kind="unsupported") == [1]
    m.forget("s")  # erased with a chunk still pending: the gauge drops it
    assert sink.values("pending_chunks")[-1] == 0
    m("s", _ev("chunk_processed", 20.0, seq=0, offset_s=0.0, segments=[]))  # late commit of a forgotten chunk
    assert sink.values("chunk_lag_seconds") == []


def test_a_finished_session_leaves_nothing_behind():
    m = EventMetrics(Sink())
    for seq in range(100):
        m("s", _ev("chunk_received", seq * 2.0, seq=seq, duration_s=2.0))
        m("s", _ev("chunk_processed", seq * 2.0 + 0.4, seq=seq, offset_s=seq * 2.0, segments=[]))
    assert len(m._placed["s"]) == 32  # bounded per session
    m("s", _ev("finished", 300.0))
    assert not (m._pending or m._placed or m._fresh or m._finish)


def test_record_checks_tags_and_is_a_no_op_outside_ray():
    record("chunk_lag_seconds", 0.4)
    record("phi_detections_total", 1, entity_type="PERSON")
    with pytest.raises(ValueError):
        record("phi_detections_total", 1, text="Jane Doe")  # a tag that could carry PHI is refused
    with pytest.raises(KeyError):
        record("no_such_metric", 1)


def test_metric_tags_are_kinds_never_values_or_ids():
    allowed = {"kind", "stage", "schema_valid", "entity_type", "outcome", "status"}  # status: an HTTP code
    for spec in METRICS.values():
        assert spec.name.startswith("scribe_")
        assert set(spec.tags) <= allowed, spec
