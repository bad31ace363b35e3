"""`dvc-pulse notifier ...` commands."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.notifier.cli import app

runner = CliRunner()


def test_purge_reports_what_it_cleared_when_run_on_an_empty_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DVC_NOTIFIER_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'notifier.db'}")
    result = runner.invoke(app, ["purge", "--older-than", "90d"])
    assert result.exit_code == 0, result.output
    assert "0 notifications cleared, 0 dossier contacts and 0 receipts deleted" in result.output


def test_purge_refuses_the_retention_when_it_is_not_days_or_hours() -> None:
    result = runner.invoke(app, ["purge", "--older-than", "3 months"])
    assert result.exit_code == 2


def test_template_check_fails_with_the_reason_when_a_template_is_too_long(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "templates.yaml"
    broken.write_text(
        "templates:\n  - {id: officer.x, version: 1, audience: officer, policy: unaccented, max_segments: 1,\n"
        "     body: '" + "Hồ sơ {dossier_code} sắp quá hạn. " * 6 + "'}\n",
        encoding="utf-8",
    )
    shipped = runner.invoke(app, ["check-templates"])
    monkeypatch.setenv("DVC_NOTIFIER_TEMPLATES_FILE", str(broken))
    refused = runner.invoke(app, ["check-templates"])

    assert shipped.exit_code == 0
    assert "citizen.accepted v1: UCS-2, 2 segment(s)" in shipped.output
    assert refused.exit_code == 1
    assert "template officer.x v1" in refused.output


def test_new_key_prints_a_fernet_key_when_asked() -> None:
    result = runner.invoke(app, ["new-key"])
    assert result.exit_code == 0
    assert len(result.output.strip()) == 44
