"""Which NATS a CLI command talks to, resolved the same way by every command and always said out loud.

Order: the command's `--nats-url`, then `DVC_NATS_URL`, then the embedded server of a running `make up` (its
address in `var/nats-url`, written while it runs), then the default `nats://127.0.0.1:4222`. The command prints
`NATS: <url> (<where it came from>)` on stderr, so a command never touches an unexpected server silently.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer

if TYPE_CHECKING:
    from services.runtime.settings import ServiceSettings

RUNNING_URL_FILE = "nats-url"
DEFAULT_URL = "nats://127.0.0.1:4222"
S = TypeVar("S", bound="ServiceSettings")
NATS_URL_HELP = (
    f"NATS servers, comma-separated (default: $DVC_NATS_URL, else the running make up's, else {DEFAULT_URL})"
)


def nats_url_option() -> Any:
    """The `--nats-url` option of every command that talks to NATS (resolved by `for_cli`)."""
    return typer.Option(None, "--nats-url", help=NATS_URL_HELP)


def publish_running_url(var_dir: Path, url: str) -> None:
    """`make up` says where its NATS listens while it runs."""
    (var_dir / RUNNING_URL_FILE).write_text(url + "\n", encoding="utf-8")


def withdraw_running_url(var_dir: Path) -> None:
    (var_dir / RUNNING_URL_FILE).unlink(missing_ok=True)


def resolve_nats_url(flag: str | None, settings: ServiceSettings) -> tuple[str, str]:
    """(servers, where they came from)."""
    if flag:
        return flag, "--nats-url"
    if "nats_url" in settings.model_fields_set:
        return settings.nats_url, "DVC_NATS_URL"
    running = settings.var_dir / RUNNING_URL_FILE
    if running.is_file():
        url = running.read_text(encoding="utf-8").strip()
        if url:
            return url, f"the running `make up`, {running}"
    return DEFAULT_URL, "default"


def for_cli(settings: S, flag: str | None = None) -> S:
    """`settings` pointing at the resolved NATS, announced on stderr."""
    url, origin = resolve_nats_url(flag, settings)
    print(f"NATS: {url} ({origin})", file=sys.stderr)
    return settings.model_copy(update={"nats_url": url})
