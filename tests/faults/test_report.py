"""`python -m tests.faults.report` renders the suite's results into docs/reliability.md's table."""

from __future__ import annotations

from pathlib import Path

import orjson

from tests.faults.report import BEGIN, END, main

ROW = {
    "fault": "nats-server stopped and restarted",
    "backend": "sqlite",
    "events_sent": 360,
    "lost": 0,
    "double_counted": 0,
    "sms_expected": 128,
    "sms_duplicated": 0,
    "sms_wrong": 0,
    "details": "",
}


def test_table_is_replaced_between_the_markers_when_results_exist(tmp_path: Path) -> None:
    results, doc = tmp_path / "results.json", tmp_path / "reliability.md"
    results.write_bytes(orjson.dumps({"nats [sqlite]": ROW}))
    doc.write_text(f"# Title\n\n{BEGIN}\nold table\n{END}\n\nAfter.\n", encoding="utf-8")

    assert main(["--results", str(results), "--doc", str(doc), "--check"]) == 1
    assert main(["--results", str(results), "--doc", str(doc)]) == 0

    text = doc.read_text(encoding="utf-8")
    assert "old table" not in text
    assert "| nats-server stopped and restarted | sqlite | 360 | 0 | 0 | 128 | 0 | 0 |  |" in text
    assert text.startswith("# Title\n")
    assert text.endswith("\nAfter.\n")
    assert main(["--results", str(results), "--doc", str(doc), "--check"]) == 0


def test_nothing_is_written_when_the_suite_has_not_run(tmp_path: Path) -> None:
    doc = tmp_path / "reliability.md"
    doc.write_text(f"{BEGIN}\n{END}\n", encoding="utf-8")
    assert main(["--results", str(tmp_path / "missing.json"), "--doc", str(doc)]) == 2
    assert doc.read_text(encoding="utf-8") == f"{BEGIN}\n{END}\n"
