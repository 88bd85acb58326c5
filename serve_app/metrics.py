"""Application metrics, exported on Ray's Prometheus endpoint (issue 17).

Every node's Ray exports them on its metrics port (``ray start --metrics-export-port=8080``,
``ray.init(_metrics_export_port=...)``) with a ``ray_`` prefix: ``scribe_chunk_lag_seconds`` is scraped
as ``ray_scribe_chunk_lag_seconds_bucket``/``_sum``/``_count``.  Inside a Serve replica
``ray.serve.metrics`` adds the ``deployment``, ``replica`` and ``application`` tags.

Tags are kinds, outcomes, stages and entity types only, never a value, a session id or any text,
so nothing exported can carry PHI.  Outside a Ray worker (unit tests, command-line tools) every
call is a no-op; a metric is created on its first use in each process.

``deploy/grafana/scribe.json`` charts every metric here; ``docs/operations.md`` lists them.
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Any, Iterator, NamedTuple

__all__ = ["METRICS", "record", "timed"]

LATENCY_BUCKETS = [0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0]
RTF_BUCKETS = [0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 4.0]


class Spec(NamedTuple):
    kind: str  # "counter", "gauge" or "histogram"
    name: str
    description: str
    tags: tuple[str, ...] = ()
    buckets: list[float] | None = None


#: short name -> what is exported.  ``record(short_name, value, **tags)`` is the only way to report one.
METRICS: dict[str, Spec] = {s.name.removeprefix("scribe_"): s for s in (
    Spec("histogram", "scribe_chunk_lag_seconds",
         "An audio chunk's arrival in the store to its commit (transcribed, masked, labelled).", (), LATENCY_BUCKETS),
    Spec("histogram", "scribe_word_latency_seconds",
         "A word's audio chunk arriving to the word on the session's event stream: kind=tentative (first "
         "shown, not yet committed) or committed.", ("kind",), LATENCY_BUCKETS),
    Spec("gauge", "scribe_pending_chunks", "Audio chunks received and not yet processed (this store's sessions)."),
    Spec("counter", "scribe_audio_seconds_total", "Seconds of audio received (the denominator of per-stage cost)."),
    Spec("histogram", "scribe_asr_real_time_factor", "ASR decode seconds per second of audio in the buffer.",
         (), RTF_BUCKETS),
    Spec("counter", "scribe_stage_busy_seconds_total",
         "Wall seconds a stage spent on calls (stage=asr, pii, roles, notes, guardrails); divided by "
         "scribe_audio_seconds_total it is the stage's cost per audio-second.", ("stage",)),
    Spec("histogram", "scribe_note_write_seconds", "Writing one note version (draft or final) in the Notes replica.",
         (), LATENCY_BUCKETS),
    Spec("histogram", "scribe_final_note_seconds", "A session's finish request to its final note.", (),
         LATENCY_BUCKETS),
    Spec("counter", "scribe_note_answers_total", "LLM answers by schema_valid=true/false (the schema-valid rate).",
         ("schema_valid",)),
    Spec("counter", "scribe_note_warnings_total", "Guardrail warnings raised, by kind, per check of a note version.",
         ("kind",)),
    Spec("counter", "scribe_state_reads_total", "State reads (GET /v1/sessions/{sid}) answered in the Ingress's HTTP "
         "server ahead of Serve's request handling, by HTTP status (Serve's request metrics do not see them).",
         ("status",)),
    Spec("counter", "scribe_phi_detections_total", "PHI spans masked, by entity type (never the value).",
         ("entity_type",)),
    Spec("counter", "scribe_feedback_total", "Feedback items spooled and published (outcome=spooled, published) "
         "and dataset rows quarantined for a PHI finding (outcome=quarantined).",
         ("outcome",)),
)}

_made: dict[str, Any] = {}


def _metric(short: str) -> Any | None:
    """The process's metric object for ``short``, made on first use; None outside a Ray worker."""
    metric = _made.get(short)
    if metric is not None:
        return metric
    import ray

    if not ray.is_initialized():
        return None
    from ray.serve import metrics as serve_metrics

    spec = METRICS[short]
    if spec.kind == "histogram":
        metric = serve_metrics.Histogram(spec.name, spec.description, boundaries=spec.buckets, tag_keys=spec.tags)
    elif spec.kind == "gauge":
        metric = serve_metrics.Gauge(spec.name, spec.description, tag_keys=spec.tags)
    else:
        metric = serve_metrics.Counter(spec.name, spec.description, tag_keys=spec.tags)
    _made[short] = metric
    return metric


def record(short: str, value: float, **tags: str) -> None:
    """Observe (histogram), add (counter) or set (gauge) ``value`` for metric ``short`` with ``tags``.

    Never raises: a metric that cannot be recorded must not fail the request that measured it."""
    spec = METRICS[short]  # an unknown name is a programming error: raise it in tests
    if set(tags) != set(spec.tags):
        raise ValueError(f"{spec.name} takes tags {spec.tags}, got {tuple(tags)}")
    try:
        metric = _metric(short)
        if metric is None:
            return
        if spec.kind == "histogram":
            metric.observe(value, tags=tags or None)
        elif spec.kind == "gauge":
            metric.set(value, tags=tags or None)
        elif value > 0:
            metric.inc(value, tags=tags or None)
    except Exception:  # noqa: BLE001 - metrics are best effort by design
        pass


@contextmanager
def timed(stage: str) -> Iterator[None]:
    """Add the wall time of the ``with`` body to ``scribe_stage_busy_seconds_total{stage=...}``."""
    t0 = time.perf_counter()
    try:
        yield
    finally:
        record("stage_busy_seconds_total", time.perf_counter() - t0, stage=stage)
