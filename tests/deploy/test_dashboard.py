"""The Grafana dashboard must only query metrics that the services define, and load as valid JSON."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy/grafana/dashboards/dvc-pulse.json"
_METRIC = re.compile(r"\bdvc_[a-z_]+")


def _defined_metrics() -> set[str]:
    names: set[str] = set()
    for source in (ROOT / "services").rglob("*.py"):
        names.update(re.findall(r'"(dvc_[a-z_]+)"', source.read_text(encoding="utf-8")))
    return names


def _queried_metrics() -> set[str]:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    queried: set[str] = set()
    for panel in dashboard["panels"]:
        for target in panel.get("targets") or []:
            queried.update(_METRIC.findall(target["expr"]))
    return queried


def test_dashboard_queries_only_defined_metrics_when_provisioned() -> None:
    defined = _defined_metrics()
    unknown = {
        name for name in _queried_metrics() if name not in defined and re.sub(r"_bucket$", "", name) not in defined
    }
    assert unknown == set()


def test_dashboard_titles_are_vietnamese_when_shown_to_operators() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    titles = [panel["title"] for panel in dashboard["panels"]]
    assert "Tỷ lệ giải quyết đúng hạn" in titles
    assert all(title and title[0].isupper() for title in titles)
    assert dashboard["timezone"] == "Asia/Ho_Chi_Minh"
