"""The Grafana dashboard graphs only series a worker serves, and graphs all of them."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client.metrics_core import Metric

from streams.metrics import Metrics

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "argus-dashboard.json"
# What the exposition calls each family's samples.
SUFFIXES = {
    "counter": ("_total",),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count"),
}


def served_series() -> dict[str, str]:
    """Sample name -> family name, for every family of a worker's registry."""
    families: list[Metric] = list(Metrics().registry.collect())
    return {f.name + suffix: f.name for f in families for suffix in SUFFIXES[f.type]}


def panels(dashboard: dict) -> list[dict]:
    out = []
    for p in dashboard["panels"]:
        out += [p, *p.get("panels", [])]  # collapsed rows keep their panels inside
    return out


def expressions(dashboard: dict) -> list[str]:
    return [t["expr"] for p in panels(dashboard) for t in p.get("targets", [])]


def test_every_metric_in_the_dashboard_is_served_and_every_served_one_is_graphed() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    served = served_series()
    used = {
        name
        for expr in expressions(dashboard)
        for name in re.findall(r"\bargus_[a-z0-9_]+\b", expr)
    }
    assert used, "no argus_ series in the dashboard"
    assert used <= set(served), sorted(used - set(served))
    assert {served[n] for n in used} == set(served.values()), "a metric no panel shows"


def test_dashboard_is_importable() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert [i["name"] for i in dashboard["__inputs"]] == ["DS_PROMETHEUS"]
    ids = [p["id"] for p in panels(dashboard)]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for p in panels(dashboard):
        if p["type"] != "row":
            assert p["datasource"]["uid"] == "${DS_PROMETHEUS}", p["title"]
            assert p["targets"], p["title"]
    for expr in expressions(dashboard):
        assert expr.count("(") == expr.count(")") and expr.count("{") == expr.count("}"), expr
