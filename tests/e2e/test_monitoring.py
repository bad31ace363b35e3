"""Monitoring as deployed: a real Prometheus (Debian's `prometheus`, which `.ci/run` installs) scrapes the four
running services with the jobs and alert rules of deploy/prometheus, and every query of the Grafana dashboards
runs on it. Every panel must show data, not just parse: a metric renamed in a service (say, a counter that
gained `_total`) empties a panel without any error anywhere else. Series of what did not happen (no SMS failed,
no dossier at risk, no 5xx) exist at 0, so a panel is never empty on a healthy system."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import yaml

from services.runtime.nats.embedded import free_port
from tests.e2e.processes import base_env, run_cli, wait_for
from tests.e2e.system import System

ROOT = Path(__file__).resolve().parents[2]
DEPLOYED = ROOT / "deploy/prometheus"
DASHBOARDS = sorted((ROOT / "deploy/grafana/dashboards").glob("*.json"))
PROMETHEUS = shutil.which("prometheus")
DB_SERVICES = ("indicators", "tasks", "notifier")
# Grafana's variables as the dashboards are opened: every agency, a rate window of one minute.
VARIABLES = {"$agency": ".*", "$field": ".*", "$__rate_interval": "1m"}

pytestmark = pytest.mark.skipif(PROMETHEUS is None, reason="no prometheus binary (apt-get install prometheus)")


@pytest.fixture
def system(tmp_path: Path) -> Iterator[System]:
    databases = {name: f"sqlite+aiosqlite:///{tmp_path / f'{name}.db'}" for name in DB_SERVICES}
    # The plan sets no ONTIME target; a province configures one (the burn-rate alerts and its panel need it).
    running = System(tmp_path, databases, extra_settings={"indicators": {"DVC_INDICATORS_ONTIME_TARGET": "0.95"}})
    try:
        running.start()
        yield running
    finally:
        running.stop()


def _config(system: System, directory: Path) -> Path:
    """deploy/prometheus/prometheus.yml with the services' local ports instead of their compose host names."""
    config: dict[str, Any] = yaml.safe_load((DEPLOYED / "prometheus.yml").read_text(encoding="utf-8"))
    config["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
    # The console (no NATS, no KPIs of its own) is not part of this system: its job is left out.
    config["scrape_configs"] = [
        job
        for job in config["scrape_configs"]
        if all(target["labels"]["service"] in system.services for target in job["static_configs"])
    ]
    for job in config["scrape_configs"]:
        for target in job["static_configs"]:
            service = target["labels"]["service"]
            target["targets"] = [f"127.0.0.1:{system.services[service].port}"]
    for rules in ("rules.yml", "alerts.yml"):
        shutil.copy(DEPLOYED / rules, directory / rules)
    path = directory / "prometheus.yml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@pytest.fixture
def prometheus(system: System, tmp_path: Path) -> Iterator[str]:
    assert PROMETHEUS is not None
    directory = tmp_path / "prometheus"
    directory.mkdir()
    port = free_port()
    process = subprocess.Popen(
        [
            PROMETHEUS,
            f"--config.file={_config(system, directory)}",
            f"--storage.tsdb.path={directory / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(directory / "prometheus.log").open("wb"),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: httpx.get(f"{url}/-/ready", timeout=2).status_code == 200, 30, "Prometheus to be ready")
        yield url
    finally:
        process.terminate()
        process.wait(10)


def _query(url: str, expression: str) -> list[dict[str, Any]]:
    answer = httpx.get(f"{url}/api/v1/query", params={"query": expression}, timeout=10).json()
    assert answer["status"] == "success", f"{expression}: {answer}"
    result: list[dict[str, Any]] = answer["data"]["result"]
    return result


def _total(url: str, expression: str) -> float:
    [sample] = _query(url, expression)
    return float(sample["value"][1])


def _dashboard_queries(chosen: dict[str, str] | None = None) -> list[str]:
    queries = []
    for path in DASHBOARDS:
        for panel in orjson.loads(path.read_bytes())["panels"]:
            for target in panel.get("targets") or []:
                expression = target["expr"]
                for variable, value in {**VARIABLES, **(chosen or {})}.items():
                    expression = expression.replace(variable, value)
                queries.append(expression)
    return queries


def _simulate_a_week(system: System) -> None:
    end = datetime.now(UTC).replace(microsecond=0)
    events_file = system.root / "events.ndjson"
    window = ("--start", (end - timedelta(days=7)).isoformat(), "--end", end.isoformat())
    run_cli(base_env(system.var_dir), "simulate", "--seed", "57", *window, "--out", str(events_file))
    events = [orjson.loads(line) for line in events_file.read_bytes().splitlines() if line.strip()]
    for start in range(0, len(events), 500):
        system.post(events[start : start + 500])
    wait_for(system.consumers_idle, 120, "every consumer to be done")


def _empty_panels(prometheus: str, queries: list[str], patience: float) -> list[str]:
    """The queries still without data after `patience` seconds (rates need two scrapes, snapshots a few seconds)."""

    def empty() -> list[str]:
        results = {expression: _query(prometheus, expression) for expression in queries}
        return [expression for expression in sorted(results) if not results[expression]]

    deadline = time.monotonic() + patience
    while (found := empty()) and time.monotonic() < deadline:
        time.sleep(0.5)
    return found


def _assert_field_filters_a_part(prometheus: str) -> None:
    """One field's open dossiers are a proper, non-empty part of all of them, and every panel runs with it."""
    fields = sorted(sample["metric"]["field"] for sample in _query(prometheus, "sum by (field) (dvc_dossiers_open)"))
    assert len(fields) > 1, fields
    chosen = next(name for name in fields if name not in {"unknown", "other"})
    for expression in _dashboard_queries({"$field": chosen}):
        _query(prometheus, expression)
    every = _total(prometheus, 'sum(dvc_dossiers_open{agency=~".*", field=~".*"})')
    part = _total(prometheus, f'sum(dvc_dossiers_open{{agency=~".*", field=~"{chosen}"}})')
    assert 0 < part < every


def _assert_rules_loaded_and_no_availability_alert(prometheus: str) -> None:
    groups = httpx.get(f"{prometheus}/api/v1/rules", timeout=10).json()["data"]["groups"]
    rules = [rule for group in groups for rule in group["rules"]]
    deployed = yaml.safe_load((DEPLOYED / "alerts.yml").read_text(encoding="utf-8"))
    alerts = sorted(rule["alert"] for group in deployed["groups"] for rule in group["rules"])
    assert sorted(rule["name"] for rule in rules if rule["type"] == "alerting") == alerts
    assert {rule["health"] for rule in rules} == {"ok"}
    # A healthy system raises no availability alert (a week of events may well raise plan alerts).
    healthy = {"DvcServiceDown", "DvcNatsUnreachable", "DvcDatabaseUnreachable", "DvcConsumerStuck"}
    assert [rule["name"] for rule in rules if rule["name"] in healthy and rule["state"] != "inactive"] == []


def test_every_dashboard_panel_shows_data_when_prometheus_scrapes_a_simulated_week(
    system: System, prometheus: str
) -> None:
    _simulate_a_week(system)

    def scraped_everything() -> bool:
        up = _query(prometheus, "up")
        return len(up) == 4 and all(sample["value"][1] == "1" for sample in up)

    wait_for(scraped_everything, 30, "Prometheus to scrape the four services")
    empty = _empty_panels(prometheus, _dashboard_queries(), patience=30)
    assert empty == [], "panels without data:\n" + "\n".join(empty)
    _assert_field_filters_a_part(prometheus)
    # The late-without-apology counts by agency and field add up to the indicator's numerator (one snapshot).
    late = _total(prometheus, "sum(dvc_dossiers_late_without_apology)")
    assert late == _total(prometheus, 'sum(dvc_indicator_numerator{code="LATE_NO_APOLOGY"})')
    _assert_rules_loaded_and_no_availability_alert(prometheus)
