"""One key lifecycle for every service: `dvc-pulse <service> keys add|list|revoke|rotate`.

A service defines its own `keys add` (the options that say what its keys may do, checked against what it knows:
sources, units) and calls `KeysCli.add`; `list`, `revoke` and `rotate` are the same everywhere. A revoked key
stays in the file (listed as revoked, refused with 401); a rotated key keeps its name and rights with a new
secret, the old secret refused at once or after `--grace-hours`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Generic

import typer

from services.runtime.api_keys import KeyFiles, KeysFileError, S, hash_key, key_state, new_key, usage_path, with_key
from services.runtime.key_usage import read_usage

EXPIRES_HELP = "When the key stops working: a date (2027-01-01, midnight UTC), a date-time, or a number of days (90)"


def parse_expiry(text: str | None, now: datetime) -> datetime | None:
    """`--expires`: None, `90` / `90d` (days from now), an ISO date (midnight UTC) or date-time (UTC if naive)."""
    if text is None or not text.strip():
        return None
    value = text.strip().lower()
    days = value[:-1] if value.endswith("d") else value
    if days.isdigit():
        if int(days) < 1:
            raise ValueError("a number of days must be at least 1")
        return now + timedelta(days=int(days))
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is neither a date (2027-01-01), a date-time nor a number of days") from None
    if len(text.strip()) == 10:
        day = date.fromisoformat(text.strip())
        moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
    moment = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    if moment <= now:
        raise ValueError(f"{text!r} is already past")
    return moment


def _when(moment: datetime | None) -> str:
    return "-" if moment is None else f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


@dataclass
class KeysCli(Generic[S]):
    """`service` names the commands in messages; `env_var` is where extra keys come from the environment."""

    service: str
    prefix: str
    files: KeyFiles[S]
    path: Callable[[], Path]
    env_keys: Callable[[], Sequence[S]]
    env_var: str
    rights: Callable[[S], str]
    usage_file: Callable[[], Path] | None = None
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    def read(self, path: Path) -> list[S]:
        try:
            return self.files.read(path)
        except KeysFileError as error:
            typer.echo(f"cannot read the keys file: {error}", err=True)
            raise typer.Exit(1) from None

    def expiry(self, text: str | None) -> datetime | None:
        try:
            return parse_expiry(text, self.clock())
        except ValueError as error:
            raise typer.BadParameter(str(error), param_hint="--expires") from None

    def add(self, name: str, spec_of: Callable[[str], S], expires: str | None) -> None:
        """Create a key (replacing any key of the same name), store its hash, print it once."""
        path = self.path()
        stored = self.read(path)
        key = new_key(self.prefix)
        spec = spec_of(key).model_copy(update={"created_at": self.clock(), "expires_at": self.expiry(expires)})
        self.files.write(path, with_key(stored, spec))
        replaced = " (replacing the previous key of that name)" if any(s.name == name for s in stored) else ""
        typer.echo(f"{self.service} key {name!r}: {self.rights(spec)}; stored its hash in {path}{replaced}", err=True)
        typer.echo("this is the only time the key is shown:", err=True)
        typer.echo(key)

    def show(self) -> None:
        path = self.path()
        stored, now = self.read(path), self.clock()
        used = read_usage(self.usage_file() if self.usage_file else usage_path(path))
        for spec in stored:
            state = key_state(spec, now)
            status = "active" if state is None else state.value
            typer.echo(
                f"{spec.name}: {status}; {self.rights(spec)}; created {_when(spec.created_at)}; "
                f"expires {_when(spec.expires_at)}; last used {_when(used.get(spec.name))}"
                + (f"; revoked {_when(spec.revoked_at)}" if spec.revoked_at else "")
            )
        for spec in self.env_keys():
            typer.echo(f"{spec.name}: from {self.env_var}; {self.rights(spec)}; last used {_when(used.get(spec.name))}")
        if not stored and not self.env_keys():
            typer.echo(f"no {self.service} keys: create one with `dvc-pulse {self.service} keys add`", err=True)

    def _active(self, stored: list[S], name: str, path: Path) -> S:
        found = next((spec for spec in stored if spec.name == name), None)
        if found is None:
            known = any(spec.name == name for spec in self.env_keys())
            where = f"it comes from {self.env_var}: remove it there" if known else f"no key named {name!r} in {path}"
            typer.echo(f"cannot change {self.service} key {name!r}: {where}", err=True)
            raise typer.Exit(1)
        if found.revoked_at is not None:
            typer.echo(f"{self.service} key {name!r} was already revoked {_when(found.revoked_at)}", err=True)
            raise typer.Exit(1)
        return found

    def revoke(self, name: str) -> None:
        path = self.path()
        stored = self.read(path)
        found = self._active(stored, name, path)
        revoked = found.model_copy(update={"revoked_at": self.clock()})
        self.files.write(path, [revoked if spec is found else spec for spec in stored])
        typer.echo(f"revoked {self.service} key {name!r}: refused (401) within seconds, without a restart")

    def rotate(self, name: str, grace_hours: float, expires: str | None) -> None:
        path = self.path()
        stored = self.read(path)
        old = self._active(stored, name, path)
        now, key = self.clock(), new_key(self.prefix)
        new = old.model_copy(
            update={"sha256": hash_key(key), "created_at": now, "expires_at": self.expiry(expires), "revoked_at": None}
        )
        retired_name = f"{name}@{now:%Y%m%dT%H%M%S}"
        if grace_hours > 0:
            retired = old.model_copy(update={"name": retired_name, "expires_at": now + timedelta(hours=grace_hours)})
        else:
            retired = old.model_copy(update={"name": retired_name, "revoked_at": now})
        self.files.write(path, [*(spec for spec in stored if spec is not old), retired, new])
        until = f"until {_when(retired.expires_at)}" if grace_hours > 0 else "no longer (revoked now)"
        typer.echo(f"rotated {self.service} key {name!r}; the old secret ({retired_name}) works {until}", err=True)
        typer.echo("this is the only time the new key is shown:", err=True)
        typer.echo(key)


def register_lifecycle(app: typer.Typer, make: Callable[[], KeysCli[S]]) -> None:
    """Add `list`, `revoke` and `rotate` to a service's `keys` app (`add` is the service's own). `make` builds
    the KeysCli when a command runs (settings are read then, not at import)."""

    @app.command("list")
    def list_keys() -> None:
        """Every key: status, rights, creation, expiry, last use (never the key)."""
        make().show()

    @app.command("revoke")
    def revoke_key(name: str = typer.Argument(..., help="The key's name, as `keys list` shows it")) -> None:
        """Refuse a key from now on (401 within seconds, no restart); it stays listed as revoked."""
        make().revoke(name)

    @app.command("rotate")
    def rotate_key(
        name: str = typer.Argument(..., help="The key's name, as `keys list` shows it"),
        grace_hours: float = typer.Option(0.0, "--grace-hours", min=0, help="How long the old secret still works"),
        expires: str = typer.Option(None, "--expires", help=EXPIRES_HELP),
    ) -> None:
        """A new secret with the same name and rights, printed once; the old one is revoked (or expires)."""
        make().rotate(name, grace_hours, expires)
