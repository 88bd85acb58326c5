"""The Grafana dashboard in deploy/ charts every application metric, and only metrics that exist."""
from __future__ import annotations

import json
import re
from pathlib import Path

from serve_app.metrics import METRICS

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "scribe.json"


def test_every_metric_is_charted_and_every_charted_metric_exists():
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    used = {re.sub(r"_(bucket|sum|count)$", "", name) for e in exprs for name in re.findall(r"ray_scribe_\w+", e)}
    exported = {"ray_" + spec.name for spec in METRICS.values()}
    assert used == exported
    for e in exprs:  # tags a query groups by are the metric's own tags
        for tags in re.findall(r"by \(([^)]*)\)", e):
            for tag in (t.strip() for t in tags.split(",")):
                haproxy = {"code"} if "haproxy_frontend_http_responses_total" in e else set()  # HAProxy's exporter
                assert tag in {"le", "deployment", "status_code"} | haproxy | {t for s in METRICS.values() for t in s.tags}
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])
