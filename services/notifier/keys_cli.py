"""`dvc-pulse notifier keys add|list|revoke` and `dvc-pulse notifier demo-key`: operator keys, stored as SHA-256
hashes in the keys file (`DVC_NOTIFIER_KEYS_FILE`); the running service re-reads it, so no restart is needed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer

from services.notifier.adapters.keys import KeysFileError, read_keys, write_keys
from services.notifier.domain.operators import KEY_PREFIX, KeySpec
from services.notifier.settings import Settings
from services.runtime.api_keys import ensure_demo_key, hash_key, new_key, with_key

keys_app = typer.Typer(help="Operator keys for /v1/notifications and /v1/opt-outs.", no_args_is_help=True)
DEMO_KEY_NAME = "demo"
DEMO_KEY_FILE = "demo-notifier-key"


def _read(path: Path) -> list[KeySpec]:
    try:
        return read_keys(path)
    except KeysFileError as error:
        typer.echo(f"cannot read the keys file: {error}", err=True)
        raise typer.Exit(1) from None


@keys_app.command("add")
def add_key(name: str = typer.Argument(..., help="Who holds the key (a key of the same name is replaced)")) -> None:
    """Create an operator key and print it once (only its SHA-256 is stored)."""
    path = Settings().resolved_keys_file()
    keys = _read(path)
    key = new_key(KEY_PREFIX)
    write_keys(path, with_key(keys, KeySpec(name=name, sha256=hash_key(key), created_at=datetime.now(UTC))))
    replaced = " (replacing the previous key of that name)" if any(spec.name == name for spec in keys) else ""
    typer.echo(f"operator key {name!r} stored in {path}{replaced}", err=True)
    typer.echo("this is the only time the key is shown:", err=True)
    typer.echo(key)


@keys_app.command("list")
def list_keys() -> None:
    """Names and creation times of the operator keys (never the keys)."""
    settings = Settings()
    stored = _read(settings.resolved_keys_file())
    for spec in stored:
        created = f"created {spec.created_at:%Y-%m-%d %H:%M} UTC" if spec.created_at else "creation time unknown"
        typer.echo(f"{spec.name}: {created}")
    for spec in settings.keys:
        typer.echo(f"{spec.name}: from DVC_NOTIFIER_KEYS")
    if not stored and not settings.keys:
        typer.echo("no operator keys: create one with `dvc-pulse notifier keys add NAME`", err=True)


@keys_app.command("revoke")
def revoke_key(name: str = typer.Argument(..., help="The key's name, as `keys list` shows it")) -> None:
    """Delete a key from the keys file; requests with it get 401 within a second, without a restart."""
    path = Settings().resolved_keys_file()
    keys = _read(path)
    kept = [spec for spec in keys if spec.name != name]
    if len(kept) == len(keys):
        typer.echo(f"no operator key named {name!r} in {path}", err=True)
        raise typer.Exit(1)
    write_keys(path, kept)
    typer.echo(f"revoked operator key {name!r}")


def demo_key() -> None:
    """Print the local demo operator key (for `make up`), creating it on first use; idempotent."""
    settings = Settings()
    path = settings.resolved_keys_file()

    def spec_of(key: str) -> KeySpec:
        return KeySpec(name=DEMO_KEY_NAME, sha256=hash_key(key), created_at=datetime.now(UTC))

    key_file = settings.var_dir / DEMO_KEY_FILE
    typer.echo(ensure_demo_key(key_file, _read(path), KEY_PREFIX, spec_of, lambda keys: write_keys(path, keys)))
