"""`dvc-pulse notifier keys add|list|revoke|rotate` and `dvc-pulse notifier demo-key`: operator keys, stored as
SHA-256 hashes in the keys file (`DVC_NOTIFIER_KEYS_FILE`); the running service re-reads it, so no restart is
needed. The lifecycle (list, revoke, rotate, expiry) is shared by every service (services.runtime.keys_cli)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer

from services.notifier.adapters.keys import KeysFileError, key_files, read_keys, write_keys
from services.notifier.domain.operators import KEY_PREFIX, KeySpec
from services.notifier.settings import Settings
from services.runtime.api_keys import ensure_demo_key, hash_key, usage_file_in
from services.runtime.keys_cli import EXPIRES_HELP, KeysCli, register_lifecycle

keys_app = typer.Typer(help="Operator keys for /v1/notifications and /v1/opt-outs.", no_args_is_help=True)
DEMO_KEY_NAME = "demo"
DEMO_KEY_FILE = "demo-notifier-key"


def _read(path: Path) -> list[KeySpec]:
    try:
        return read_keys(path)
    except KeysFileError as error:
        typer.echo(f"cannot read the keys file: {error}", err=True)
        raise typer.Exit(1) from None


def _keys_cli() -> KeysCli[KeySpec]:
    settings = Settings()
    return KeysCli(
        service="notifier",
        usage_file=lambda: usage_file_in(settings.var_dir, "notifier"),
        prefix=KEY_PREFIX,
        files=key_files,
        path=settings.resolved_keys_file,
        env_keys=lambda: settings.keys,
        env_var="DVC_NOTIFIER_KEYS",
        rights=lambda _spec: "operator",
    )


@keys_app.command("add")
def add_key(
    name: str = typer.Argument(..., help="Who holds the key (a key of the same name is replaced)"),
    expires: str = typer.Option(None, "--expires", help=EXPIRES_HELP),
) -> None:
    """Create an operator key and print it once (only its SHA-256 is stored)."""
    _keys_cli().add(name, lambda key: KeySpec(name=name, sha256=hash_key(key)), expires)


register_lifecycle(keys_app, _keys_cli)


def demo_key() -> None:
    """Print the local demo operator key (for `make up`), creating it on first use; idempotent."""
    settings = Settings()
    path = settings.resolved_keys_file()

    def spec_of(key: str) -> KeySpec:
        return KeySpec(name=DEMO_KEY_NAME, sha256=hash_key(key), created_at=datetime.now(UTC))

    key_file = settings.var_dir / DEMO_KEY_FILE
    typer.echo(ensure_demo_key(key_file, _read(path), KEY_PREFIX, spec_of, lambda keys: write_keys(path, keys)))
