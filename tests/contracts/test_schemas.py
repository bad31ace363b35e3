from __future__ import annotations

from pathlib import Path

import orjson
from typer.testing import CliRunner

from services.contracts.events import EVENT_MODELS, EventType
from services.ingest.adapters.schema_files import schema_drift, write_schemas
from services.ingest.entrypoints.cli import app

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schemas"
runner = CliRunner()


def test_committed_schemas_match_the_models_when_generated_again() -> None:
    drift = schema_drift(SCHEMAS)

    assert drift == [], f"docs/schemas drifted from the models, run `dvc-pulse ingest export-schemas`: {drift}"


def test_every_event_type_and_service_message_has_a_schema_when_exported(tmp_path: Path) -> None:
    write_schemas(tmp_path)

    names = {path.relative_to(tmp_path).as_posix() for path in tmp_path.rglob("*.schema.json")}
    assert {f"events/{event_type.value}.schema.json" for event_type in EventType} <= names
    assert {"cloudevent.schema.json", "batch.schema.json"} <= names
    assert {
        "messages/dossier-alert-raised.schema.json",
        "messages/task-alert-raised.schema.json",
        "messages/indicator-snapshot-taken.schema.json",
        "messages/notification-status-changed.schema.json",
    } <= names
    accepted = orjson.loads((tmp_path / "events/vn.gov.dvc.dossier.accepted.schema.json").read_bytes())
    assert accepted["properties"]["type"]["const"] == "vn.gov.dvc.dossier.accepted"
    assert len(EVENT_MODELS) == len(EventType)


def test_drift_is_reported_and_check_fails_when_schema_files_differ_from_the_models(tmp_path: Path) -> None:
    write_schemas(tmp_path)
    changed = tmp_path / "events/vn.gov.dvc.dossier.paid.schema.json"
    changed.write_text(changed.read_text().replace('"fee_amount"', '"fee"'))
    (tmp_path / "cloudevent.schema.json").unlink()
    (tmp_path / "events/vn.gov.dvc.dossier.archived.schema.json").write_text("{}")

    check = runner.invoke(app, ["export-schemas", "--check", "--out", str(tmp_path)])
    fixed = runner.invoke(app, ["export-schemas", "--out", str(tmp_path)])
    again = runner.invoke(app, ["export-schemas", "--check", "--out", str(tmp_path)])

    assert check.exit_code == 1
    assert check.stdout.splitlines() == [
        "missing cloudevent.schema.json",
        "stale events/vn.gov.dvc.dossier.archived.schema.json",
        "changed events/vn.gov.dvc.dossier.paid.schema.json",
    ]
    assert fixed.exit_code == 0
    assert again.exit_code == 0
    assert schema_drift(tmp_path) == []
