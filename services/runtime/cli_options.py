"""Option names shared by every `dvc-pulse` command: `--nats-url` (`services.runtime.nats.cli_url`),
`--database-url`, `--<service>-url` for a service's HTTP address, `--api-key`. An old name stays working as a
hidden, deprecated alias of its new one."""

from __future__ import annotations

import sys
from typing import Any, TypeVar

import typer

T = TypeVar("T")


def deprecated_alias(name: str, replacement: str) -> Any:
    """An old option name kept working, hidden from `--help` (see `preferred`)."""
    return typer.Option(None, name, hidden=True, help=f"Deprecated: use {replacement}")


def preferred(value: T, alias_value: T | None, alias: str, name: str) -> T:
    """`value`, unless the deprecated alias was given: then its value, with a warning on stderr."""
    if alias_value is None:
        return value
    print(f"warning: {alias} is deprecated; use {name}", file=sys.stderr)
    return alias_value
