"""`dvc-pulse notifier ...`: retention purge, encryption and hash keys (new, rotate), operator keys, template
check."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

import typer

from services.notifier.adapters.config_files import load_templates, load_triggers
from services.notifier.adapters.crypto import new_key
from services.notifier.adapters.keyring import vault_from
from services.notifier.adapters.migrate import upgrade
from services.notifier.adapters.phones import to_e164
from services.notifier.adapters.unit_of_work import SqlUnitOfWork
from services.notifier.domain.templates import ConfigError
from services.notifier.entrypoints.keys_cli import demo_key, keys_app
from services.notifier.service_layer.messages import Purged
from services.notifier.service_layer.retention import Purger
from services.notifier.service_layer.rotation import RotationReport, rotate_keys
from services.notifier.settings import Settings
from services.runtime.db import create_engine, create_session_factory

app = typer.Typer(help="Notifier: personal-data retention, keys and templates.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.command("demo-key")(demo_key)
_DURATION = re.compile(r"^\s*(\d+)\s*([dh])\s*$")


def parse_duration(text: str) -> timedelta:
    """`90d` or `36h`."""
    match = _DURATION.match(text)
    if match is None:
        raise typer.BadParameter("use a number of days or hours, e.g. 90d or 36h")
    value, unit = int(match.group(1)), match.group(2)
    return timedelta(days=value) if unit == "d" else timedelta(hours=value)


async def run_purge(database_url: str, cutoff: datetime) -> Purged:
    engine = create_engine(database_url)
    try:
        await upgrade(engine)
        sessions = create_session_factory(engine)
        return await Purger(lambda: SqlUnitOfWork(sessions), timedelta(0), lambda: cutoff).run_once()
    finally:
        await engine.dispose()


@app.command("purge")
def purge_command(
    older_than: str = typer.Option(None, "--older-than", help="Retention, e.g. 90d (default: retention setting)"),
) -> None:
    """Delete phones, names and message texts older than the retention period now (statuses stay); the service
    also does it by itself every DVC_NOTIFIER_PURGE_INTERVAL_HOURS."""
    settings = Settings()
    retention = parse_duration(older_than) if older_than else timedelta(days=settings.retention_days)
    cutoff = datetime.now(UTC) - retention
    purged = asyncio.run(run_purge(settings.resolved_database_url(), cutoff))
    typer.echo(
        f"before {cutoff:%Y-%m-%d %H:%M} UTC: {purged.notifications} notifications cleared, "
        f"{purged.contacts} dossier contacts and {purged.receipts} receipts deleted"
    )


@app.command("new-key")
def new_key_command() -> None:
    """Print a new key: an encryption key (DVC_NOTIFIER_ENCRYPTION_KEY) or a hash key (DVC_NOTIFIER_HASH_KEY)."""
    typer.echo(new_key())


async def run_rotation(settings: Settings) -> RotationReport:
    vault = vault_from(settings)
    engine = create_engine(settings.resolved_database_url())
    try:
        await upgrade(engine)
        sessions = create_session_factory(engine)
        return await rotate_keys(lambda: SqlUnitOfWork(sessions), vault, to_e164, datetime.now(UTC))
    finally:
        await engine.dispose()


@app.command("rotate-key")
def rotate_key_command() -> None:
    """Re-encrypt every stored phone and name with the newest (first) encryption key and re-hash every phone with
    the hash key; opt-outs keep working. Then the older keys can be removed (docs/security.md)."""
    try:
        report = asyncio.run(run_rotation(Settings()))
    except ConfigError as error:
        typer.echo(f"cannot rotate: {error}", err=True)
        raise typer.Exit(2) from None
    typer.echo(
        f"{report.reencrypted} values re-encrypted with the newest key, {report.rehashed} phone hashes recomputed, "
        f"{report.unreadable} unreadable with the configured keys, {report.unmatched_opt_outs} opt-outs without a "
        "known phone (kept as they are)"
    )
    if report.unreadable or report.unmatched_opt_outs:
        typer.echo(
            "keep the older keys until this is understood: an unreadable value needs its key, an opt-out without a "
            "known phone matches only under the hash it was recorded with (docs/security.md)",
            err=True,
        )


@app.command("check-templates")
def check_templates() -> None:
    """Load the configured templates and triggers as the service would; exit 1 with the reason if refused."""
    settings = Settings()
    try:
        templates = load_templates(settings.templates_file, settings.centre_name)
        triggers = load_triggers(templates, settings.triggers_file)
    except ConfigError as error:
        typer.echo(f"refused: {error}", err=True)
        raise typer.Exit(1) from None
    for template in templates:
        preview = template.render(template.sample_values())
        typer.echo(
            f"{template.id} v{template.version}: {preview.length.encoding.value}, {preview.length.segments} segment(s) "
            f"(at most {template.worst_case_segments()} of {template.spec.max_segments})"
        )
    typer.echo(f"{sum(len(t) for t in triggers.by_kind.values())} triggers on {len(triggers.by_kind)} event kinds")
