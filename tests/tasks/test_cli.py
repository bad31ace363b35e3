"""`dvc-pulse tasks ...`: load-plan (idempotent, a second plan alongside, broken files refused with line and
reason), report, demo-key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.tasks.adapters.keys import key_store, read_keys
from services.tasks.adapters.plan_file import DEFAULT_PLAN_FILE
from services.tasks.domain.access import principal_of
from services.tasks.entrypoints.cli import app

pytestmark = pytest.mark.postgres
runner = CliRunner()


def _env(tmp_path: Path, database_url: str) -> dict[str, str]:
    return {"DVC_VAR_DIR": str(tmp_path), "DVC_TASKS_DATABASE_URL": database_url, "DVC_TASKS_PLAN_FILE": ""}


def test_plan_loads_once_and_a_second_plan_alongside_when_load_plan_runs(tmp_path: Path, database_url: str) -> None:
    env = _env(tmp_path, database_url)
    first = runner.invoke(app, ["load-plan", str(DEFAULT_PLAN_FILE)], env=env)
    again = runner.invoke(app, ["load-plan", str(DEFAULT_PLAN_FILE)], env=env)
    assert (first.exit_code, first.stdout.strip()) == (
        0,
        "plan lam-thao-2026 loaded: indicators 38 inserted, 0 updated, 0 retired; "
        "tasks 84 inserted, 0 updated, 0 retired",
    )
    assert again.stdout.strip() == "plan lam-thao-2026: unchanged"
    other = tmp_path / "phat-tich-2026.yaml"
    other.write_text(DEFAULT_PLAN_FILE.read_text().replace("id: lam-thao-2026", "id: phat-tich-2026"))
    second = runner.invoke(app, ["load-plan", str(other)], env=env)
    assert second.stdout.startswith("plan phat-tich-2026 loaded: indicators 38 inserted")
    ambiguous = runner.invoke(app, ["report", "-f", "json"], env=env)
    assert (ambiguous.exit_code, "several plans are loaded" in ambiguous.stderr) == (1, True)
    default_env = {key: value for key, value in env.items() if key != "DVC_TASKS_PLAN_FILE"}
    default = runner.invoke(app, ["report", "-f", "md"], env=default_env)  # the start-up plan file's plan
    assert default.stdout.startswith("# Báo cáo kết quả thực hiện Kế hoạch triển khai Nghị quyết số 57-NQ/TW")
    assert "xã Lâm Thao năm 2026" in default.stdout.splitlines()[0]
    output = tmp_path / "report.json"
    written = runner.invoke(app, ["report", "-f", "json", "--plan", "phat-tich-2026", "-o", str(output)], env=env)
    assert written.exit_code == 0, written.output
    document = json.loads(output.read_text())
    assert (document["plan"]["id"], len(document["indicators"]), len(document["tasks"])) == ("phat-tich-2026", 38, 84)


def test_broken_plan_is_refused_with_file_line_and_reason_when_loaded(tmp_path: Path, database_url: str) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(DEFAULT_PLAN_FILE.read_text().replace("    kind: rank\n", "    kind: ranking\n"))
    line = broken.read_text().splitlines().index("    kind: ranking") + 1
    result = runner.invoke(app, ["load-plan", str(broken)], env=_env(tmp_path, database_url))
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"{broken}:{line}: indicators[8].kind: Input should be 'percent', 'count', 'rank' or 'number'"
    )


def test_demo_key_is_created_once_when_run_twice(tmp_path: Path) -> None:
    env = {"DVC_VAR_DIR": str(tmp_path)}
    first = runner.invoke(app, ["demo-key"], env=env)
    second = runner.invoke(app, ["demo-key"], env=env)
    key = first.stdout.strip()
    assert (first.exit_code, second.stdout.strip()) == (0, key)
    assert (tmp_path / "demo-tasks-admin-key").read_text().strip() == key
    assert [(spec.name, spec.admin) for spec in read_keys(tmp_path / "tasks-keys.json")] == [("demo-admin", True)]
    assert key not in (tmp_path / "tasks-keys.json").read_text()
    spec = key_store(tmp_path / "tasks-keys.json").ring().authenticate(key)
    assert spec is not None
    principal = principal_of(spec)
    assert principal.may_act_for("lam-thao-2026", ["KT"])


def test_unit_key_is_stored_hashed_when_added(tmp_path: Path) -> None:
    result = runner.invoke(app, ["add-key", "--name", "vhxh", "--unit", "VHXH"], env={"DVC_VAR_DIR": str(tmp_path)})
    spec = key_store(tmp_path / "tasks-keys.json").ring().authenticate(result.stdout.strip())
    assert spec is not None
    principal = principal_of(spec)
    assert (principal.unit, principal.may_act_for("p", ["VHXH"]), principal.may_act_for("p", ["KT"])) == (
        "VHXH",
        True,
        False,
    )
    both = runner.invoke(
        app, ["add-key", "--name", "x", "--unit", "VHXH", "--admin"], env={"DVC_VAR_DIR": str(tmp_path)}
    )
    assert both.exit_code == 2
