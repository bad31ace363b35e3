"""Fixtures of the fault suite: one known history per session, and a fresh system (services as processes,
own databases) per case, on SQLite or, with DVC_TEST_POSTGRES_URL, on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

from tests.conftest import POSTGRES_URL
from tests.faults.history import History, make_history
from tests.faults.system import FaultSystem
from tests.service_databases import DB_SERVICES, create_service_databases, drop_service_databases

MakeSystem = Callable[..., FaultSystem]


@pytest.fixture(scope="session")
def history() -> History:
    return make_history()


def postgres_urls() -> tuple[dict[str, str], list[str]]:
    """A new PostgreSQL database per service (URLs, database names)."""
    return create_service_databases("dvc_faults")


@pytest.fixture
def make_system(tmp_path: Path) -> Iterator[MakeSystem]:
    """`make_system(backend, cluster=False, settings=None, database_urls=None)` starts a system; every system
    started is stopped (and its PostgreSQL databases dropped) after the test."""
    started: list[FaultSystem] = []
    databases: list[str] = []

    def make(
        backend: str = "sqlite",
        *,
        cluster: bool = False,
        settings: Mapping[str, Mapping[str, str]] | None = None,
        database_urls: Mapping[str, str] | None = None,
        drop_databases: list[str] | None = None,
    ) -> FaultSystem:
        databases.extend(drop_databases or [])
        if database_urls is not None:
            urls = dict(database_urls)
        elif backend == "sqlite":
            urls = {name: f"sqlite+aiosqlite:///{tmp_path / f'{name}.db'}" for name in DB_SERVICES}
        else:
            if not POSTGRES_URL:
                pytest.skip("DVC_TEST_POSTGRES_URL is not set")
            urls, names = postgres_urls()
            databases.extend(names)
        system = FaultSystem(tmp_path, urls, cluster=cluster, settings=settings or {})
        started.append(system)
        system.start()
        return system

    try:
        yield make
    finally:
        for system in started:
            system.stop()
        drop_service_databases(databases)
