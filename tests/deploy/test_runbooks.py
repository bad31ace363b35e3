"""docs/operations.md "What to do when" points to a runbook for every alert, every runbook exists, and what the
runbooks and that section tell an operator to run exists (each `dvc-pulse` command answers `--help`), and each
`dvc_` metric a runbook reads is exported by a service."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.deploy.test_dashboard import _defined_metrics

ROOT = Path(__file__).resolve().parents[2]
RUNBOOKS = sorted((ROOT / "docs/runbooks").glob("*.md"))
_COMMAND = re.compile(r"`dvc-pulse ((?:[a-z][a-z-]*)(?: [a-z][a-z-]*)?)")
_METRIC = re.compile(r"\bdvc_[a-z_]+\b")


def _what_to_do_when() -> str:
    return (ROOT / "docs/operations.md").read_text(encoding="utf-8").split("## What to do when", 1)[1].split("\n## ")[0]


def _operator_texts() -> list[str]:
    return [_what_to_do_when(), *(path.read_text(encoding="utf-8") for path in RUNBOOKS)]


def test_every_alert_is_in_what_to_do_when_when_operations_docs_are_read() -> None:
    rules = yaml.safe_load((ROOT / "deploy/prometheus/alerts.yml").read_text(encoding="utf-8"))
    alerts = {rule["alert"] for group in rules["groups"] for rule in group["rules"]}
    missing = {name for name in alerts if f"(runbooks/{name}.md)" not in _what_to_do_when()}
    assert missing == set()
    assert {path.stem for path in RUNBOOKS} == alerts


def test_runbooks_cite_only_exported_metrics_when_read() -> None:
    defined = _defined_metrics()
    cited = {name for path in RUNBOOKS for name in _METRIC.findall(path.read_text(encoding="utf-8"))}
    unknown = {name for name in cited if re.sub(r"_(bucket|total|count|sum)$", "", name) not in defined}
    assert unknown - defined == set()


@pytest.mark.parametrize("command", sorted({found for text in _operator_texts() for found in _COMMAND.findall(text)}))
def test_runbook_command_exists_when_an_operator_runs_it(command: str) -> None:
    cli = Path(sys.executable).parent / "dvc-pulse"
    result = subprocess.run(
        [str(cli), *command.split(), "--help"], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
