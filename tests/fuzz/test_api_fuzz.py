"""Schemathesis against the OpenAPI document of each service, with a valid key: no 5xx, every rejection a
problem document naming the problem (tests/fuzz/checks.py), and schemathesis' other checks."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from services.runtime.nats.embedded import EmbeddedNats
from tests.fuzz.runner import fuzz
from tests.fuzz.services import fuzz_database, indicators_app, ingest_app, notifier_app, tasks_app
from tests.fuzz.settings import TIMEOUT

pytestmark = [pytest.mark.fuzz, pytest.mark.timeout(TIMEOUT)]
REPORTS = ("xlsx", "csv", "md", "json")


def test_tasks_answers_without_server_error_when_fuzzed(fuzz_nats: EmbeddedNats, fuzz_var: Path) -> None:
    """Then the report, in every format, still opens for everyone over whatever the fuzzer stored (issue 11:
    one task with control characters made every XLSX report a 500)."""
    with fuzz_database(fuzz_var, "tasks") as database, tasks_app(fuzz_nats.url, fuzz_var, database).running() as served:
        outcome = fuzz(served)
        reports = {
            form: served.client.get("/v1/reports/plan", params={"format": form}, headers=served.headers)
            for form in REPORTS
        }
    assert outcome.problems() == []
    assert {form: answer.status_code for form, answer in reports.items()} == dict.fromkeys(REPORTS, 200)
    assert load_workbook(io.BytesIO(reports["xlsx"].content)).sheetnames == ["Chỉ tiêu (Phụ lục I)", "Nhiệm vụ"]


def test_ingest_answers_without_server_error_when_fuzzed(fuzz_nats: EmbeddedNats, fuzz_var: Path) -> None:
    with ingest_app(fuzz_nats.url, fuzz_var).running() as served:
        outcome = fuzz(served)
    assert outcome.problems() == []


def test_indicators_answers_without_server_error_when_fuzzed(fuzz_nats: EmbeddedNats, fuzz_var: Path) -> None:
    with (
        fuzz_database(fuzz_var, "indicators") as database,
        indicators_app(fuzz_nats.url, fuzz_var, database).running() as served,
    ):
        outcome = fuzz(served)
    assert outcome.problems() == []


def test_notifier_answers_without_server_error_when_fuzzed(fuzz_nats: EmbeddedNats, fuzz_var: Path) -> None:
    with (
        fuzz_database(fuzz_var, "notifier") as database,
        notifier_app(fuzz_nats.url, fuzz_var, database).running() as served,
    ):
        outcome = fuzz(served)
    assert outcome.problems() == []
