"""Every benchmark run with tiny sizes so none rots: each must finish and record its result rows. No timing is
asserted here (speed belongs to `make bench`)."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import orjson
import pytest

from benchmarks import results
from benchmarks.__main__ import available

TINY_ARGUMENTS = {
    "nats_anchors": ["--messages", "300", "--window", "100"],
    "ingest_http": ["--events", "400", "--batch", "100", "--connections", "2"],
    "indicators_apply": ["--events", "200", "--rebuild-events", "400"],
    "notifier_dispatch": ["--messages", "20"],
    "e2e_latency": ["--dossiers", "50", "--rates", "10", "--seconds", "1"],
    "partitions": ["--events", "400", "--partitions", "1", "2"],
}
EXPECTED_ROWS = {
    "nats_anchors": {"anchor_publish", "anchor_consume"},
    "ingest_http": {"ingest_http"},
    "indicators_apply": {"indicators_apply_sqlite", "rebuild", "rebuild_rss"},
    "notifier_dispatch": {"notifier_dispatch_outbox", "notifier_dispatch_http"},
    "e2e_latency": {"e2e_kpi_10_p99", "e2e_kpi_10_max", "e2e_sms_10_p99", "rss_indicators", "rss_notifier"},
    # PostgreSQL only: without DVC_TEST_POSTGRES_URL it records nothing
    "partitions": (
        {"indicators_partitions_1", "indicators_partitions_2"} if os.environ.get("DVC_TEST_POSTGRES_URL") else set()
    ),
}


def test_every_benchmark_has_tiny_sizes_when_a_benchmark_is_added() -> None:
    assert set(available()) == set(TINY_ARGUMENTS)


@pytest.mark.e2e
@pytest.mark.timeout(600)
@pytest.mark.parametrize("name", sorted(TINY_ARGUMENTS))
def test_benchmark_records_its_result_rows_when_run_with_tiny_sizes(name: str) -> None:
    results.RECORDED.clear()
    status = importlib.import_module(f"benchmarks.bench_{name}").main(TINY_ARGUMENTS[name])
    recorded = {row.key: row for row in results.RECORDED}
    assert status == 0
    assert EXPECTED_ROWS[name] <= set(recorded)
    assert all(row.benchmark == name and row.figure >= 0 for row in results.RECORDED)


def test_results_hold_ratios_to_the_anchor_and_the_verdicts_when_written(tmp_path: Path) -> None:
    document = tmp_path / "performance.md"
    document.write_text(f"# Performance\n\n{results.TABLE_START}\nold\n{results.TABLE_END}\n\nAfter.\n")
    rows = [
        results.Row(results.ANCHOR_PUBLISH, "nats_anchors", "raw publish", 60_000, "msg/s"),
        results.Row(
            "ingest_http",
            "ingest_http",
            "ingest",
            24_000,
            "events/s",
            results.ANCHOR_PUBLISH,
            results.Target("at_least", 0.5, "ratio"),
        ),
        results.Row("rss_ingest", "e2e_latency", "ingest peak RSS", 90, "MB", None, results.Target("at_most", 200)),
    ]
    results.write(rows, tmp_path / "latest.json", document)

    written = orjson.loads((tmp_path / "latest.json").read_bytes())["rows"]
    assert [(row["key"], row["ratio"], row["met"]) for row in written] == [
        ("anchor_publish", None, None),
        ("ingest_http", 0.4, False),
        ("rss_ingest", None, True),
    ]
    text = document.read_text()
    assert "old" not in text
    assert text.endswith("After.\n")
    assert "| ingest | 24,000 events/s | 0.40x anchor_publish | >= 0.5x anchor | **no** |" in text
