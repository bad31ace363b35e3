"""`dvc-pulse ingest ...` (keys, schemas) and the top-level `dvc-pulse import FILE`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer

from services.ingest.adapters.keystore import KeysFileError, read_keys, write_keys
from services.ingest.adapters.schema_files import schema_drift, write_schemas
from services.ingest.domain.keys import KEY_PREFIX, KeySpec
from services.ingest.import_cli import import_command
from services.ingest.read_cli import read_command
from services.ingest.settings import Settings
from services.runtime.api_keys import ensure_demo_key, hash_key, new_key, with_key

app = typer.Typer(help="Ingest service: keys and event schemas.", no_args_is_help=True)
TOP_LEVEL_COMMANDS = {"import": import_command}
app.command("read")(read_command)

DEMO_KEY_NAME = "demo"
DEMO_SOURCES = ("urn:dvc:*",)


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


@app.command("add-key")
def add_key(
    name: str = typer.Option(..., "--name", help="Who uses the key (a key of the same name is replaced)"),
    sources: list[str] = typer.Option(
        ..., "--source", help="A source the key may send: exact, or a prefix ending in * (repeat the option)"
    ),
) -> None:
    """Create a key bound to its sources; prints the key once (only its SHA-256 is stored)."""
    settings = Settings()
    key = new_key(KEY_PREFIX)
    spec = KeySpec(name=name, sha256=hash_key(key), sources=tuple(sources), created_at=datetime.now(UTC))
    write_keys(settings.keys_path, with_key(_read(settings.keys_path), spec))
    typer.echo(f"key {name!r} may send {', '.join(spec.sources)}; stored its hash in {settings.keys_path}", err=True)
    typer.echo("this is the only time the key is shown:", err=True)
    typer.echo(key)


@app.command("list-keys")
def list_keys() -> None:
    """Names and allowed sources of the stored keys (never the keys)."""
    settings = Settings()
    for spec in [*read_keys(settings.keys_path), *settings.keys]:
        typer.echo(f"{spec.name}: {', '.join(spec.sources)}")


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
