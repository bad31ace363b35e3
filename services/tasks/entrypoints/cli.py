"""`dvc-pulse tasks ...`: load or check a plan, write the periodic report, manage keys."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import typer

from services.runtime.keys_cli import register_lifecycle
from services.tasks.domain.access import KeySpec

if TYPE_CHECKING:
    from services.runtime.keys_cli import KeysCli
    from services.tasks.service_layer.messages import LoadedPlan
    from services.tasks.settings import Settings

app = typer.Typer(help="Plan tracking: indicators, tasks, reports and keys.", no_args_is_help=True)
CLI_ACTOR = "cli"
DEMO_KEY_NAME = "demo-admin"


def _settings(database_url: str | None) -> Settings:
    from services.tasks.settings import Settings

    settings = Settings()
    return settings.model_copy(update={"database_url": database_url}) if database_url else settings


def _read_plan(file: Path) -> LoadedPlan:
    from services.tasks.adapters.plan_file import PlanFileError, read_plan_file

    try:
        return read_plan_file(file)
    except PlanFileError as error:
        typer.echo(error.describe(), err=True)
        raise typer.Exit(1) from None


@app.command("check-plan")
def check_plan(file: Path = typer.Argument(..., help="Plan file (YAML)")) -> None:
    """Validate a plan file without loading it; problems are printed as FILE:LINE: reason."""
    plan = _read_plan(file).plan
    typer.echo(f"{file}: plan {plan.plan.id}: {len(plan.indicators)} indicators, {len(plan.tasks)} tasks: valid")


@app.command("load-plan")
def load_plan(
    file: Path = typer.Argument(..., help="Plan file (YAML)"),
    database_url: str = typer.Option(None, help="Default: $DVC_TASKS_DATABASE_URL or var/tasks.db"),
) -> None:
    """Load (or update) a plan: upsert by plan id, indicator number and task id; progress is kept."""
    from services.runtime.db import create_engine
    from services.tasks.adapters.migrate import upgrade
    from services.tasks.adapters.unit_of_work import sql_unit_of_work
    from services.tasks.domain.access import Principal
    from services.tasks.service_layer.handlers import TasksService

    loaded = _read_plan(file)
    settings = _settings(database_url)

    async def run() -> None:
        engine = create_engine(settings.resolved_database_url())
        try:
            await upgrade(engine)
            service = TasksService(uow=sql_unit_of_work(engine), timezone=settings.timezone)
            summary = await service.load_plan(loaded, Principal(name=CLI_ACTOR, unit=None, admin=True))
        finally:
            await engine.dispose()
        if not summary.changed:
            typer.echo(f"plan {summary.plan_id}: unchanged")
            return
        verb = "loaded" if summary.created else "updated"
        typer.echo(
            f"plan {summary.plan_id} {verb}: indicators {_counts(summary.indicators)}; tasks {_counts(summary.tasks)}"
        )

    asyncio.run(run())


def _plan_file_id(path: Path | None) -> str | None:
    """The start-up plan file's plan id: the default plan, as in the running service."""
    from services.tasks.adapters.plan_file import PlanFileError, read_plan_file

    if path is None:
        return None
    try:
        return read_plan_file(path).plan.plan.id
    except PlanFileError:
        return None


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{value} {name}" for name, value in counts.items())


@app.command("report")
def report(
    format: str = typer.Option("xlsx", "--format", "-f", help="xlsx, csv, md or json"),
    output: Path = typer.Option(None, "--output", "-o", help="File to write (default: stdout; xlsx: a named file)"),
    plan: str = typer.Option(None, help="Plan id (default: the only or default plan)"),
    period: str = typer.Option(None, help="2026, 2026-H1, 2026-Q2 or 2026-05: as things stood at its end"),
    database_url: str = typer.Option(None, help="Default: $DVC_TASKS_DATABASE_URL or var/tasks.db"),
) -> None:
    """Write the periodic report: Phụ lục I with Kết quả and Đánh giá, then the tasks (now, or for a period)."""
    from services.runtime.db import create_engine
    from services.tasks.adapters.migrate import upgrade
    from services.tasks.adapters.unit_of_work import sql_unit_of_work
    from services.tasks.adapters.xlsx import to_xlsx
    from services.tasks.domain.errors import TasksError
    from services.tasks.domain.periods import PeriodRequest
    from services.tasks.domain.render import to_csv, to_json, to_markdown
    from services.tasks.service_layer.handlers import TasksService

    if format not in ("xlsx", "csv", "md", "json"):
        raise typer.BadParameter("one of xlsx, csv, md, json", param_hint="--format")
    chosen: Literal["xlsx", "csv", "md", "json"] = format  # type: ignore[assignment]
    settings = _settings(database_url)

    async def build() -> tuple[str, bytes]:
        engine = create_engine(settings.resolved_database_url())
        try:
            await upgrade(engine)
            default_plan = settings.default_plan or _plan_file_id(settings.resolved_plan_file())
            service = TasksService(uow=sql_unit_of_work(engine), timezone=settings.timezone, default_plan=default_plan)
            document = await service.report(plan, PeriodRequest(period))
        finally:
            await engine.dispose()
        renderers = {"xlsx": to_xlsx, "csv": to_csv, "json": to_json}
        body = to_markdown(document).encode() if chosen == "md" else renderers[chosen](document)
        return f"bao-cao-{document.plan.plan_id}-{datetime.now(UTC):%Y%m%d}.{chosen}", body

    try:
        name, body = asyncio.run(build())
    except TasksError as error:
        typer.echo(error.detail, err=True)
        raise typer.Exit(1) from None
    if output is None and chosen == "xlsx":
        output = Path(name)
    if output is None:
        sys.stdout.buffer.write(body)
        return
    output.write_bytes(body)
    typer.echo(f"wrote {output}")


keys_app = typer.Typer(help="Unit and admin keys: add, list, revoke, rotate.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


def _keys_cli() -> KeysCli[KeySpec]:
    from services.runtime.api_keys import usage_file_in
    from services.runtime.keys_cli import KeysCli
    from services.tasks.adapters.keys import key_files, parse_key_specs
    from services.tasks.domain.access import KEY_PREFIX
    from services.tasks.settings import Settings

    settings = Settings()
    return KeysCli(
        service="tasks",
        usage_file=lambda: usage_file_in(settings.var_dir, "tasks"),
        prefix=KEY_PREFIX,
        files=key_files,
        path=settings.resolved_keys_file,
        env_keys=lambda: parse_key_specs(settings.keys),
        env_var="DVC_TASKS_KEYS",
        rights=_rights,
    )


def _rights(spec: KeySpec) -> str:
    who = "admin" if spec.admin else f"unit {spec.unit}"
    return f"{who}, plans {', '.join(spec.plans)}"


def _known_units(settings: Settings) -> set[str]:
    """Units of the start-up plan file and of every plan loaded in the database."""
    from sqlalchemy.exc import SQLAlchemyError

    from services.runtime.db import create_engine
    from services.tasks.adapters.migrate import upgrade
    from services.tasks.adapters.unit_of_work import sql_unit_of_work
    from services.tasks.service_layer.handlers import TasksService

    units: set[str] = set()
    plan_file = settings.resolved_plan_file()
    if plan_file is not None:
        units |= {unit.code for unit in _read_plan(plan_file).plan.units}

    async def loaded() -> set[str]:
        engine = create_engine(settings.resolved_database_url())
        try:
            await upgrade(engine)
            plans = await TasksService(uow=sql_unit_of_work(engine), timezone=settings.timezone).plans()
        finally:
            await engine.dispose()
        return {unit.code for plan in plans for unit in plan.units}

    try:
        return units | asyncio.run(loaded())
    except (OSError, SQLAlchemyError) as error:  # the plan file alone still says which units exist
        typer.echo(f"cannot read the loaded plans ({error}); checking the units of the plan file only", err=True)
        return units


@keys_app.command("add")
def add_key(
    name: str = typer.Option(..., help="Who holds the key (e.g. vhxh-2026)"),
    unit: str = typer.Option(None, help="Unit code the key reports for (e.g. VHXH); must be a unit of a plan"),
    admin: bool = typer.Option(False, "--admin", help="An admin key (may change everything)"),
    plans: list[str] = typer.Option(["*"], "--plan", help="Plans the key may change (repeatable; * = all)"),
    expires: str = typer.Option(None, "--expires", help="A date (2027-01-01), a date-time or a number of days"),
) -> None:
    """Create a key, store its hash in the keys file and print the key once."""
    from services.runtime.api_keys import hash_key
    from services.tasks.settings import Settings

    if admin == (unit is not None):
        raise typer.BadParameter("give either --unit CODE or --admin")
    if unit is not None:
        known = _known_units(Settings())
        if unit not in known:
            raise typer.BadParameter(
                f"unknown unit {unit!r}: the plans know {', '.join(sorted(known)) or 'no unit'}", param_hint="--unit"
            )

    def spec_of(key: str) -> KeySpec:
        return KeySpec(name=name, sha256=hash_key(key), unit=unit, admin=admin, plans=tuple(plans))

    _keys_cli().add(name, spec_of, expires)


app.command("add-key", hidden=True, help="Old name of `keys add`.")(add_key)
register_lifecycle(keys_app, _keys_cli)


@app.command("demo-key")
def demo_key() -> None:
    """Ensure a local admin key (for `make up`): written to $DVC_VAR_DIR/demo-tasks-admin-key and printed."""
    from services.runtime.api_keys import ensure_demo_key, hash_key
    from services.tasks.adapters.keys import read_keys, write_keys
    from services.tasks.domain.access import KEY_PREFIX, KeySpec
    from services.tasks.settings import Settings

    settings = Settings()
    path = settings.resolved_keys_file()

    def spec_of(key: str) -> KeySpec:
        return KeySpec(name=DEMO_KEY_NAME, sha256=hash_key(key), admin=True, created_at=datetime.now(UTC))

    key_file = settings.var_dir / "demo-tasks-admin-key"
    typer.echo(ensure_demo_key(key_file, read_keys(path), KEY_PREFIX, spec_of, lambda keys: write_keys(path, keys)))
