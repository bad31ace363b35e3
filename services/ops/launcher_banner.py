"""What `make up` prints once everything is ready: each service's addresses and log, the demo keys, where to
look. Addresses are printed whole whatever the terminal's width, or when the output is a file or a pipe."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

from rich.console import Console, RenderableType
from rich.measure import Measurement
from rich.table import Table

DEMO_KEYS = (
    ("ingest key", "demo-ingest-key"),
    ("tasks admin key", "demo-tasks-admin-key"),
    ("notifier operator key", "demo-notifier-key"),
)


class Listed(Protocol):
    name: str
    port: int | None
    log_path: Path


def shown(path: Path) -> str:
    """A path relative to the working directory when it lies below it (`var/logs/ingest.log`)."""
    return str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd()) else str(path)


def print_unwrapped(console: Console, renderable: RenderableType) -> None:
    """`renderable` at its natural width when the console is narrower (rich fits tables to 80 columns when the
    output is not a terminal, which would cut the URLs in their cells)."""
    natural = Measurement.get(console, console.options.update_width(10_000), renderable).maximum
    width = console.width
    console.width = max(width, natural)  # `print(width=...)` may only narrow it
    try:
        console.print(renderable)
    finally:
        console.width = width


def print_banner(console: Console, children: Sequence[Listed], ports: Mapping[str, int], var_dir: Path) -> None:
    table = Table(title="DVC Pulse is running (Ctrl-C stops everything)")
    for column in ("service", "API (OpenAPI)", "metrics", "log"):
        table.add_column(column, no_wrap=True)
    for child in children:
        base = f"http://127.0.0.1:{child.port}"
        table.add_row(child.name, f"{base}/docs", f"{base}/metrics", shown(child.log_path))
    print_unwrapped(console, table)
    for label, file in DEMO_KEYS:
        path = var_dir / file
        if path.exists():
            console.print(f"Demo {label}: [bold]{path.read_text(encoding='utf-8').strip()}[/bold] ({shown(path)})")
    if "indicators" in ports:
        console.print(f"KPIs: curl http://127.0.0.1:{ports['indicators']}/v1/indicators")
    if "console" in ports:
        base = f"http://127.0.0.1:{ports['console']}"
        console.print(f"Console: {base}/ (sign in with the tasks admin key); citizen lookup: {base}/tra-cuu")
