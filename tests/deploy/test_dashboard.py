"""The provisioned Grafana dashboards: valid JSON, only metrics the services define, Vietnamese titles, and the
dashboard-linter rules (templated datasource whose default is the provisioned uid, `$__rate_interval` in every
range, counters and histogram buckets only inside rate/increase, a description and a unit on every panel, the
`$agency` and `$field` variables, and `$field` applied wherever the metric has a field label)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = sorted((ROOT / "deploy/grafana/dashboards").glob("*.json"))
MAIN = ROOT / "deploy/grafana/dashboards/dvc-pulse.json"
_METRIC = re.compile(r"\bdvc_[a-z_]+")
_COUNTER_SERIES = re.compile(r"\b(dvc_[a-z_]+(?:_total|_bucket|_count|_sum))\b")
_RANGE = re.compile(r"\[([^\]]+)\]")
# Metrics (and their recordings) labelled by agency and field: a panel reading them honours the $field filter.
_FIELD_LABELLED = re.compile(
    r"\b(agency_field:)?dvc_dossiers_(open|overdue|at_risk|received|finished|late_without_apology)\b"
)
# Recomputed from the database for the current period (the distribution of the period's dossiers), not a
# counter over time: read as is.
PERIOD_HISTOGRAMS = {"dvc_dossier_processing_working_seconds_bucket"}


def _load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def _panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    return [panel for panel in dashboard["panels"] if panel["type"] != "row"]


def _defined_metrics() -> set[str]:
    names: set[str] = set()
    for source in (ROOT / "services").rglob("*.py"):
        names.update(re.findall(r'"(dvc_[a-z_]+)"', source.read_text(encoding="utf-8")))
    return names


def _recorded() -> set[str]:
    rules = yaml.safe_load((ROOT / "deploy/prometheus/rules.yml").read_text(encoding="utf-8"))
    return {rule["record"] for group in rules["groups"] for rule in group["rules"]}


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda path: path.name)
def test_dashboard_queries_only_defined_metrics_when_provisioned(path: Path) -> None:
    defined = _defined_metrics()
    recorded = _recorded()
    unknown = set()
    for panel in _panels(_load(path)):
        for target in panel["targets"]:
            for name in _METRIC.findall(target["expr"]):
                base = re.sub(r"_(bucket|total|count|sum)$", "", name)
                if name not in defined and base not in defined and not any(name in rule for rule in recorded):
                    unknown.add(name)
    assert unknown == set()


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda path: path.name)
def test_dashboard_follows_the_linter_rules_when_provisioned(path: Path) -> None:
    dashboard = _load(path)
    variables = {variable["name"]: variable for variable in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["current"]["value"] == "dvc-prometheus"  # the provisioned datasource uid
    assert {"agency", "field"} <= set(variables)
    assert variables["field"]["definition"] == "label_values(dvc_dossiers_open, field)"
    assert variables["field"]["description"], "say which panels the field filters (not the plan's indicators)"
    assert dashboard["timezone"] == "Asia/Ho_Chi_Minh"
    problems = []
    for panel in _panels(dashboard):
        title = panel["title"]
        if panel["datasource"] != {"type": "prometheus", "uid": "${datasource}"}:
            problems.append(f"{title}: datasource not templated")
        if not panel.get("description"):
            problems.append(f"{title}: no description")
        if not panel["fieldConfig"]["defaults"].get("unit"):
            problems.append(f"{title}: no unit")
        for target in panel["targets"]:
            expr = target["expr"]
            if target["datasource"]["uid"] != "${datasource}":
                problems.append(f"{title}: target datasource not templated")
            problems += [
                f"{title}: range [{r}] is not $__rate_interval" for r in _RANGE.findall(expr) if r != "$__rate_interval"
            ]
            if _FIELD_LABELLED.search(expr) and 'field=~"$field"' not in expr:
                problems.append(f"{title}: {expr} ignores $field")
            for counter in set(_COUNTER_SERIES.findall(expr)) - PERIOD_HISTOGRAMS:
                if not re.search(rf"(rate|increase)\(\s*{counter}\b", expr):
                    problems.append(f"{title}: {counter} outside rate()/increase()")
    assert problems == []


def test_dashboard_titles_are_vietnamese_when_shown_to_operators() -> None:
    titles = [panel["title"] for path in DASHBOARDS for panel in _load(path)["panels"]]
    assert "Tỷ lệ giải quyết đúng hạn" in [panel["title"] for panel in _load(MAIN)["panels"]]
    assert all(title and title[0].isupper() for title in titles)
    assert len({_load(path)["uid"] for path in DASHBOARDS}) == len(DASHBOARDS) == 5
