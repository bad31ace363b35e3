"""deploy/prometheus checked by Prometheus's own `promtool` (Debian package `prometheus`; `.ci/run` installs it).

The config, the alert rules, and the alerts' behaviour (tests/deploy/alerts_test.yml: each alert fires when its
condition holds for its `for:` and stays silent when it does not).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS_DIR = ROOT / "deploy/prometheus"
ALERT_TESTS = Path(__file__).with_name("alerts_test.yml")
SLO_TESTS = Path(__file__).with_name("slo_test.yml")  # the 3-day burn-rate windows, evaluated every 5 minutes
PROMTOOL = shutil.which("promtool")

# Only the tests that run promtool skip without it; those that read the YAML run everywhere.
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool not on PATH (apt-get install prometheus, or `make tools` as root)"
)


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run([PROMTOOL, *args], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)


def _assert_succeeded(result: subprocess.CompletedProcess[str]) -> None:
    command = " ".join(result.args[1:])
    assert result.returncode == 0, f"promtool {command} exited {result.returncode}:\n{result.stdout}{result.stderr}"


@needs_promtool
def test_config_is_valid_when_checked_with_its_rule_files() -> None:
    # rule_files are relative to prometheus.yml, as in the container where deploy/prometheus is /etc/prometheus.
    _assert_succeeded(_promtool("check", "config", "--lint=all", "--lint-fatal", "deploy/prometheus/prometheus.yml"))


@needs_promtool
def test_alert_and_recording_rules_are_valid_when_checked_and_linted() -> None:
    files = ("deploy/prometheus/rules.yml", "deploy/prometheus/alerts.yml")
    _assert_succeeded(_promtool("check", "rules", "--lint=all", "--lint-fatal", *files))


@needs_promtool
@pytest.mark.parametrize("tests", [ALERT_TESTS, SLO_TESTS], ids=lambda path: path.name)
def test_alerts_fire_or_stay_silent_as_specified_when_unit_tested(tests: Path) -> None:
    _assert_succeeded(_promtool("test", "rules", str(tests.relative_to(ROOT))))


def test_every_alert_has_a_firing_and_a_silent_case_when_unit_tests_are_read() -> None:
    rules = yaml.safe_load((PROMETHEUS_DIR / "alerts.yml").read_text())
    alerts = {rule["alert"] for group in rules["groups"] for rule in group["rules"] if "alert" in rule}
    cases = [
        case
        for path in (ALERT_TESTS, SLO_TESTS)
        for test in yaml.safe_load(path.read_text())["tests"]
        for case in test["alert_rule_test"]
    ]
    firing = {case["alertname"] for case in cases if case.get("exp_alerts")}
    silent = {case["alertname"] for case in cases if not case.get("exp_alerts")}
    assert alerts - firing == set(), "alerts without a firing case in alerts_test.yml"
    assert alerts - silent == set(), "alerts without a silent case in alerts_test.yml"


def test_alerts_follow_the_mixin_conventions_when_rules_are_read() -> None:
    rules = yaml.safe_load((PROMETHEUS_DIR / "alerts.yml").read_text())
    for rule in (rule for group in rules["groups"] for rule in group["rules"]):
        name = rule["alert"]
        assert re.fullmatch(r"Dvc(?:[A-Z][a-z0-9]+)+", name), f"{name}: not CamelCase with the Dvc prefix"
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}, name
        annotations = rule["annotations"]
        assert set(annotations) == {"summary", "description", "runbook_url"}, name
        assert "{{" in annotations["description"], f"{name}: description not templated"
        assert annotations["runbook_url"] == f"docs/runbooks/{name}.md", name
        assert (ROOT / annotations["runbook_url"]).is_file(), f"{name}: runbook missing"


def test_recording_rules_are_named_level_metric_operations_when_rules_are_read() -> None:
    rules = yaml.safe_load((PROMETHEUS_DIR / "rules.yml").read_text())
    for rule in (rule for group in rules["groups"] for rule in group["rules"]):
        assert re.fullmatch(r"[a-z_]+:[a-z_]+:[a-z0-9_]+", rule["record"]), rule["record"]
        assert "avg" not in rule["expr"], f"{rule['record']}: ratios are sums of numerators over denominators"
