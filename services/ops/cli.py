"""`dvc-pulse`: the one console script. Service commands live in each service's `cli.py` and are
mounted here lazily, so a missing or broken service never breaks the others' commands."""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import os
import sys
from pathlib import Path

import typer

app = typer.Typer(help="DVC Pulse: real-time monitoring of administrative-procedure dossiers.", no_args_is_help=True)
streams_app = typer.Typer(help="JetStream streams of the contract.", no_args_is_help=True)


def _print_version(asked: bool) -> None:
    if asked:
        from importlib.metadata import version

        typer.echo(f"dvc-pulse {version('dvc-pulse')}")
        raise typer.Exit()


@app.callback()
def _root(
    _version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version and exit"
    ),
) -> None:
    """DVC Pulse: real-time monitoring of administrative-procedure dossiers."""


app.add_typer(streams_app, name="streams")
nats_app = typer.Typer(help="NATS users and permissions (services/contracts/nats_users.py).", no_args_is_help=True)
app.add_typer(nats_app, name="nats")

SERVICES = ("ingest", "indicators", "tasks", "notifier", "console")
_SUBCOMMAND_MODULES = {name: f"services.{name}.cli" for name in (*SERVICES, "simulator")} | {
    "dlq": "services.ops.dlq_cli"
}


def _module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


@streams_app.command("apply")
def streams_apply(
    nats_url: str = typer.Option(
        None, "--nats-url", help="NATS servers, comma-separated (default: $DVC_NATS_URL, else the running make up's)"
    ),
    replicas: int = typer.Option(1, help="Stream replicas (3 on a production cluster)"),
) -> None:
    """Declare or update DVC_EVENTS, DVC_ALERTS, DVC_NOTIFY and DVC_DLQ; prints what changed."""
    import nats

    from services.runtime.nats.cli_url import for_cli
    from services.runtime.nats.streams import apply_streams
    from services.runtime.settings import ServiceSettings

    settings = for_cli(ServiceSettings(), nats_url)
    servers = settings.nats_servers
    auth = settings.cli_nats_options(servers)  # the admin user: the only one that may declare streams

    async def run() -> None:
        connection = await nats.connect(servers, connect_timeout=5, **auth)
        try:
            for change in await apply_streams(connection.jetstream(), replicas=replicas):
                typer.echo(change.describe())
        finally:
            await connection.close()

    asyncio.run(run())


@nats_app.command("users-conf")
def nats_users_conf() -> None:
    """Print the server's `users` block (deploy/nats/users.conf) rendered from the permissions table."""
    from services.runtime.nats.server_config import render_users

    typer.echo(render_users(), nl=False)


@nats_app.command("secrets")
def nats_secrets(
    directory: Path = typer.Argument(..., help="Where to write them, e.g. deploy/secrets (never commit them)"),
) -> None:
    """New random NATS secrets for a deployment: `nats.env` (every password and the JetStream key, the servers'
    env_file) and `nats-<user>.password` (each client's DVC_NATS_PASSWORD_FILE), all mode 0600. Refuses to
    overwrite: a new JetStream key cannot read a store encrypted with the old one."""
    from services.contracts.nats_users import USERS
    from services.runtime.nats.embedded_secrets import write_private
    from services.runtime.nats.server_config import new_secret, render_env_file

    env_file = directory / "nats.env"
    if env_file.exists():
        raise typer.BadParameter(f"{env_file} exists: keep it (the store is encrypted with its key)")
    passwords = {user.name: new_secret() for user in USERS}
    for name, password in passwords.items():
        write_private(directory / f"nats-{name}.password", password + "\n")
    write_private(env_file, render_env_file(passwords, new_secret(48)))
    typer.echo(f"wrote {env_file} and {len(passwords)} password files to {directory}")


@app.command("serve")
def serve(service: str = typer.Argument(..., help=f"One of: {', '.join(SERVICES)}")) -> None:
    """Run one service (HTTP API and NATS consumers) in the foreground."""
    module = f"services.{service}.bootstrap"
    if not _module_exists(module):  # a service not yet moved to the bootstrap layout
        module = f"services.{service}.main"
    if service not in SERVICES or not _module_exists(module):
        raise typer.BadParameter(f"unknown service {service!r}")
    importlib.import_module(module).run()


@app.command("up")
def up(
    simulate: bool = typer.Option(True, "--simulate/--no-simulate", help="Run the commune simulator too"),
    nats_port: int = typer.Option(None, help="Embedded NATS port (default: $DVC_EMBEDDED_NATS_PORT or 14222)"),
) -> None:
    """Embedded NATS, streams, every service (and the simulator); Ctrl-C stops everything."""
    from services.ops.launcher import Launcher

    port = nats_port or int(os.environ.get("DVC_EMBEDDED_NATS_PORT", "14222"))
    raise typer.Exit(Launcher(nats_port=port, simulate=simulate).run())


# Top-level commands a service module provides, so that `dvc-pulse import ...` imports only ingest's CLI.
_TOP_LEVEL_OWNERS = {"import": "ingest", "simulate": "simulator", "calendar": "indicators"}


def _modules_for(argv: list[str]) -> dict[str, str]:
    """Importing every service takes seconds: mount only the module the command line names, if any."""
    first = argv[1] if len(argv) > 1 else ""
    owner = _TOP_LEVEL_OWNERS.get(first, first)
    if owner in _SUBCOMMAND_MODULES:
        return {owner: _SUBCOMMAND_MODULES[owner]}
    if first in {"serve", "up", "streams", "nats"}:
        return {}
    return _SUBCOMMAND_MODULES


def _mount_service_commands(modules: dict[str, str]) -> None:
    for name, default_module in modules.items():
        moved = default_module.replace(f"services.{name}.", f"services.{name}.entrypoints.", 1)
        module_name = moved if _module_exists(moved) else default_module  # services not yet moved: <svc>.cli
        if not _module_exists(module_name):
            continue
        module = importlib.import_module(module_name)
        sub_app = getattr(module, "app", None)
        if isinstance(sub_app, typer.Typer):
            app.add_typer(sub_app, name=name)
        for command_name, command in getattr(module, "TOP_LEVEL_COMMANDS", {}).items():
            app.command(command_name)(command)
        for group_name, group in getattr(module, "TOP_LEVEL_GROUPS", {}).items():
            app.add_typer(group, name=group_name)


def main() -> None:
    _mount_service_commands(_modules_for(sys.argv))
    app()


if __name__ == "__main__":
    main()
