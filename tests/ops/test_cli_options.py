"""Every `dvc-pulse` command, walked through its typer apps: one name per option meaning everywhere, and every
command that talks to NATS takes `--nats-url` and says which server it used."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from services.ops import cli
from services.runtime.cli_options import preferred
from services.runtime.nats.embedded import free_port

# Commands known to talk to NATS: the walk must find each of them (so the detection below is not vacuous).
KNOWN_NATS_COMMANDS = {
    "import",
    "streams apply",
    "ingest read",
    "indicators rebuild",
    "dlq list",
    "dlq redrive",
}
# A visible option ending in -url must say what it addresses; `--url` alone meant NATS in one command and
# the ingest address in another.
URL_OPTIONS = {"--nats-url", "--database-url", "--ingest-url"}
AMBIGUOUS = {"--url", "--key"}


def _commands() -> Iterator[tuple[str, Any]]:
    cli._mount_service_commands(cli._SUBCOMMAND_MODULES)
    root = typer.main.get_command(cli.app)

    def walk(command: Any, path: tuple[str, ...]) -> Iterator[tuple[str, Any]]:
        subcommands = getattr(command, "commands", None)
        if subcommands is None:
            yield " ".join(path), command
            return
        for name, sub in subcommands.items():
            yield from walk(sub, (*path, name))

    yield from walk(root, ())


def _visible_options(command: Any) -> set[str]:
    return {
        name
        for param in command.params
        if param.param_type_name == "option" and not getattr(param, "hidden", False)
        for name in param.opts
    }


def _talks_to_nats(command: Any) -> bool:
    """Every NATS command resolves its server through `services.runtime.nats.cli_url.for_cli`, in its body or in
    a helper of its module that it calls."""
    callback = inspect.unwrap(command.callback)
    module = inspect.getmodule(callback)
    resolving = {
        f"{name}("
        for name, member in inspect.getmembers(module, inspect.isfunction)
        if member.__module__ == callback.__module__ and "for_cli(" in inspect.getsource(member)
    }
    body = inspect.getsource(callback)
    return "for_cli(" in body or any(call in body for call in resolving)


def test_every_nats_command_takes_nats_url_when_walking_every_typer_app() -> None:
    commands = dict(_commands())
    nats_commands = {path for path, command in commands.items() if _talks_to_nats(command)}

    assert nats_commands >= KNOWN_NATS_COMMANDS
    missing = {path for path in nats_commands if "--nats-url" not in _visible_options(commands[path])}
    assert missing == set()


def test_no_command_shows_an_ambiguous_option_name_when_walking_every_typer_app() -> None:
    shown = {path: _visible_options(command) for path, command in _commands()}

    ambiguous = {path: sorted(options & AMBIGUOUS) for path, options in shown.items() if options & AMBIGUOUS}
    unnamed_urls = {
        path: sorted(option for option in options if option.endswith("-url") and option not in URL_OPTIONS)
        for path, options in shown.items()
        if any(option.endswith("-url") and option not in URL_OPTIONS for option in options)
    }
    assert ambiguous == {}
    assert unnamed_urls == {}


@pytest.mark.parametrize(("command", "new"), [("simulate", "--ingest-url"), ("import", "--nats-url")])
def test_old_url_option_is_hidden_beside_its_new_name_when_help_is_shown(command: str, new: str) -> None:
    found = dict(_commands())[command]
    hidden = {name for param in found.params if getattr(param, "hidden", False) for name in param.opts}

    assert "--url" in hidden
    assert new in _visible_options(found)


def test_old_option_value_is_used_with_a_warning_when_the_deprecated_name_is_given(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert preferred("http://127.0.0.1:8081", None, "--url", "--ingest-url") == "http://127.0.0.1:8081"
    assert capsys.readouterr().err == ""
    assert preferred("http://127.0.0.1:8081", "http://10.0.0.5:8081", "--url", "--ingest-url") == "http://10.0.0.5:8081"
    assert capsys.readouterr().err == "warning: --url is deprecated; use --ingest-url\n"


def test_streams_apply_says_which_server_it_tried_when_nats_is_unreachable() -> None:
    url = f"nats://127.0.0.1:{free_port()}"
    cli._mount_service_commands({})
    result = CliRunner().invoke(cli.app, ["streams", "apply", "--nats-url", url])

    assert result.exit_code == 1
    assert f"NATS: {url} (--nats-url)" in result.stderr
    assert f"cannot reach NATS at {url}" in result.stderr
