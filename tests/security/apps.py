"""Each service's app built with keys files holding a right key, a revoked one, an expired one and one of
another source or unit (no NATS or database is needed: the access decision comes before the handler)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from services.runtime.api_keys import KeyFiles, hash_key

UNREACHABLE_NATS = "nats://127.0.0.1:9"  # nothing listens: the apps are used without their lifespan
OUTBOX_TOKEN = "matrix-outbox-token"
YESTERDAY = datetime.now(UTC) - timedelta(days=1)


@dataclass
class Keys:
    """The keys a matrix sends: `right` may call every keyed route of its service; `other` is a valid key whose
    source or unit does not own the resource (None where a service has no such distinction)."""

    right: str
    revoked: str
    expired: str
    other: str | None = None
    headers: dict[str, dict[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        cases = {"right": self.right, "revoked": self.revoked, "expired": self.expired, "wrong": "dvc_not-a-key"}
        if self.other is not None:
            cases["other"] = self.other
        self.headers = {name: {"Authorization": f"Bearer {key}"} for name, key in cases.items()}
        self.headers["none"] = {}


def _write(files: KeyFiles[Any], path: Path, spec_of: Callable[..., Any], keys: Keys, **other: Any) -> None:
    specs = [
        spec_of(name="right", sha256=hash_key(keys.right)),
        spec_of(name="revoked", sha256=hash_key(keys.revoked), revoked_at=YESTERDAY),
        spec_of(name="expired", sha256=hash_key(keys.expired), expires_at=YESTERDAY),
    ]
    if keys.other is not None:
        specs.append(spec_of(name="other", sha256=hash_key(keys.other), **other))
    files.write(path, specs)


def ingest_app(var_dir: Path, **overrides: Any) -> tuple[FastAPI, Keys]:
    from services.ingest.adapters.keystore import key_files
    from services.ingest.bootstrap import create_app
    from services.ingest.domain.keys import KeySpec
    from services.ingest.settings import Settings

    keys = Keys("dvcik_right", "dvcik_revoked", "dvcik_expired", "dvcik_other")
    spec = lambda **values: KeySpec(sources=values.pop("sources", ("urn:dvc:*",)), **values)  # noqa: E731
    _write(key_files, var_dir / "ingest-keys.json", spec, keys, sources=("urn:pay:gateway",))
    settings = Settings(var_dir=var_dir, nats_url=UNREACHABLE_NATS, keys_reload_seconds=0, **overrides)
    return create_app(settings), keys


def tasks_app(var_dir: Path, **overrides: Any) -> tuple[FastAPI, Keys]:
    from services.tasks.adapters.keys import key_files
    from services.tasks.bootstrap import create_app
    from services.tasks.domain.access import KeySpec
    from services.tasks.settings import Settings

    keys = Keys("dvctk_right", "dvctk_revoked", "dvctk_expired", "dvctk_other")
    spec = lambda **values: KeySpec(**({"admin": True} | values))  # noqa: E731
    _write(key_files, var_dir / "tasks-keys.json", spec, keys, admin=False, unit="VHXH")
    settings = Settings(var_dir=var_dir, nats_url=UNREACHABLE_NATS, **overrides)
    return create_app(settings), keys


def notifier_app(var_dir: Path, **overrides: Any) -> tuple[FastAPI, Keys]:
    from services.notifier.adapters.crypto import new_key
    from services.notifier.adapters.keys import key_files
    from services.notifier.bootstrap import create_app
    from services.notifier.domain.operators import KeySpec
    from services.notifier.settings import Settings

    keys = Keys("dvcnk_right", "dvcnk_revoked", "dvcnk_expired")
    _write(key_files, var_dir / "notifier-keys.json", KeySpec, keys)
    values: dict[str, Any] = {
        "var_dir": var_dir,
        "nats_url": UNREACHABLE_NATS,
        "encryption_key": new_key(),
        "hash_key": new_key(),
        "keys_reload_seconds": 0,
        "providers": f"[{{kind: outbox, receipt_token: {OUTBOX_TOKEN}}}]",
    }
    return create_app(Settings(**(values | overrides))), keys


def indicators_app(var_dir: Path, **overrides: Any) -> tuple[FastAPI, Keys | None]:
    from services.indicators.bootstrap import create_app
    from services.indicators.settings import Settings

    return create_app(Settings(var_dir=var_dir, nats_url=UNREACHABLE_NATS, **overrides)), None


def console_app(var_dir: Path, **overrides: Any) -> tuple[FastAPI, Keys | None]:
    """The console signs operators in with a tasks key checked by the tasks service (unreachable here): its JSON
    routes need the session cookie, which no request of the matrix has."""
    from services.console.bootstrap import create_app
    from services.console.settings import Settings

    values: dict[str, Any] = {
        "var_dir": var_dir,
        "notifier_key": "dvcnk_console",
        "indicators_url": "http://127.0.0.1:9",
        "tasks_url": "http://127.0.0.1:9",
        "notifier_url": "http://127.0.0.1:9",
    }
    return create_app(Settings(**(values | overrides))), None


BUILDERS: dict[str, Callable[..., tuple[FastAPI, Keys | None]]] = {
    "ingest": ingest_app,
    "indicators": indicators_app,
    "tasks": tasks_app,
    "notifier": notifier_app,
    "console": console_app,
}
