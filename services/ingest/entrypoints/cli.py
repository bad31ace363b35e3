"""`dvc-pulse ingest ...` (keys, schemas) and the top-level `dvc-pulse import FILE`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer

from services.ingest.adapters.keystore import KeysFileError, key_files, read_keys, write_keys
from services.ingest.adapters.schema_files import schema_drift, write_schemas
from services.ingest.domain.keys import KEY_PREFIX, KeySpec, unknown_sources
from services.ingest.entrypoints.import_cli import import_command
from services.ingest.entrypoints.read_cli import read_command
from services.ingest.settings import Settings
from services.runtime.api_keys import ensure_demo_key, hash_key, usage_file_in
from services.runtime.keys_cli import EXPIRES_HELP, KeysCli, register_lifecycle

app = typer.Typer(help="Ingest service: keys and event schemas.", no_args_is_help=True)
TOP_LEVEL_COMMANDS = {"import": import_command}
app.command("read")(read_command)

DEMO_KEY_NAME = "demo"
DEMO_SOURCES = ("urn:dvc:*",)


keys_app = typer.Typer(help="Producer keys: add, list, revoke, rotate.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


def _rights(spec: KeySpec) -> str:
    consent = "; SMS consent collected" if spec.sms_consent else ""
    return f"may send {', '.join(spec.sources)}{consent}"


def _keys_cli() -> KeysCli[KeySpec]:
    settings = Settings()
    return KeysCli(
        service="ingest",
        usage_file=lambda: usage_file_in(settings.var_dir, "ingest"),
        prefix=KEY_PREFIX,
        files=key_files,
        path=lambda: settings.keys_path,
        env_keys=lambda: settings.keys,
        env_var="DVC_INGEST_KEYS",
        rights=_rights,
    )


def _read(path: Path) -> list[KeySpec]:
    try:
        return read_keys(path)
    except KeysFileError as error:
        typer.echo(f"cannot update the keys file: {error}", err=True)
        raise typer.Exit(1) from None


@app.command("demo-key")
def demo_key() -> None:
    """Print the local demo key (allowed sources: urn:dvc:*), creating it on first use; idempotent."""
    settings = Settings()
    path = settings.keys_path

    def spec_of(key: str) -> KeySpec:
        return KeySpec(name=DEMO_KEY_NAME, sha256=hash_key(key), sources=DEMO_SOURCES, created_at=datetime.now(UTC))

    key_file = settings.var_dir / "demo-ingest-key"
    typer.echo(ensure_demo_key(key_file, _read(path), KEY_PREFIX, spec_of, lambda keys: write_keys(path, keys)))


@keys_app.command("add")
def add_key(
    name: str = typer.Option(..., "--name", help="Who uses the key (a key of the same name is replaced)"),
    sources: list[str] = typer.Option(
        ..., "--source", help="A source the key may send: exact, or a prefix ending in * (repeat the option)"
    ),
    expires: str = typer.Option(None, "--expires", help=EXPIRES_HELP),
    sms_consent: bool = typer.Option(
        False,
        "--sms-consent",
        help="The source collected the applicants' SMS consent: events from its portal payloads carry the phone "
        "(default: no consent, no SMS)",
    ),
) -> None:
    """Create a key bound to known sources (DVC_INGEST_KNOWN_SOURCES); prints it once (only its SHA-256 is kept)."""
    known = Settings().known_sources
    unknown = unknown_sources(sources, known)
    if unknown:
        raise typer.BadParameter(
            f"unknown source {', '.join(map(repr, unknown))}: known sources are {', '.join(known)} "
            "(DVC_INGEST_KNOWN_SOURCES)",
            param_hint="--source",
        )
    cli = _keys_cli()
    cli.add(
        name,
        lambda key: KeySpec(name=name, sha256=hash_key(key), sources=tuple(sources), sms_consent=sms_consent),
        expires,
    )


register_lifecycle(keys_app, _keys_cli)
app.command("add-key", hidden=True, help="Old name of `keys add`.")(add_key)


@app.command("list-keys", hidden=True)
def list_keys() -> None:
    """Old name of `keys list`."""
    _keys_cli().show()


@app.command("export-schemas")
def export_schemas(
    out: Path = typer.Option(Path("docs/schemas"), help="Directory of the JSON Schema files"),
    check: bool = typer.Option(False, "--check", help="Only report drift (exit 1), write nothing"),
) -> None:
    """Generate the JSON Schemas of every event type, the envelope, a batch and the services' messages."""
    if check:
        drift = schema_drift(out)
        for line in drift:
            typer.echo(line)
        if drift:
            typer.echo(f"{out} drifted from the models: run `dvc-pulse ingest export-schemas`", err=True)
            raise typer.Exit(1)
        typer.echo(f"{out} matches the models")
        return
    changed = write_schemas(out)
    typer.echo("\n".join(changed) if changed else f"{out} already matched the models")
