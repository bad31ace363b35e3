"""docs/operations.md "What to do when" points to a runbook for every alert, and every runbook exists."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_every_alert_is_in_what_to_do_when_when_operations_docs_are_read() -> None:
    rules = yaml.safe_load((ROOT / "deploy/prometheus/alerts.yml").read_text(encoding="utf-8"))
    alerts = {rule["alert"] for group in rules["groups"] for rule in group["rules"]}
    section = (ROOT / "docs/operations.md").read_text(encoding="utf-8").split("## What to do when", 1)[1]
    missing = {name for name in alerts if f"(runbooks/{name}.md)" not in section}
    assert missing == set()
    assert {path.stem for path in (ROOT / "docs/runbooks").glob("*.md")} == alerts
