"""Reading the app's metrics off Ray's Prometheus endpoint (the metrics test and the capacity bench)."""
from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

__all__ = ["scrape", "total", "LABELS"]

#: labels kept (the app's own tags and Serve's deployment); Ray's per-worker labels are summed over
LABELS = ("kind", "stage", "schema_valid", "entity_type", "outcome", "status", "deployment")


def scrape(url: str) -> tuple[str, dict[tuple[str, tuple], float]]:
    """The endpoint's text and ``(sample name, sorted kept labels) -> value`` of every ``ray_scribe_`` sample."""
    text = httpx.get(url, timeout=10).text
    out: dict[tuple[str, tuple], float] = {}
    for family in text_string_to_metric_families(text):
        if not family.name.startswith("ray_scribe_"):
            continue
        for s in family.samples:
            labels = tuple(sorted((k, v) for k, v in s.labels.items() if k in LABELS))
            out[(s.name, labels)] = out.get((s.name, labels), 0.0) + s.value
    return text, out


def total(samples: dict, name: str, **labels: str) -> float:
    """The sum of ``name``'s samples whose labels include ``labels``."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= set(ls))
