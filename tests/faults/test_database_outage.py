"""The database unreachable for 20 s while events flow: PostgreSQL behind a TCP proxy the test cuts, SQLite
with a write lock the test holds. Consumers back off and recover: nothing is dead-lettered, lost or doubled."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import POSTGRES_URL
from tests.faults.conftest import MakeSystem, postgres_urls
from tests.faults.history import History
from tests.faults.locks import write_locked
from tests.faults.outcome import assert_clean, measure
from tests.faults.proxy import TcpProxy
from tests.faults.system import RetryingSender, sqlite_path

pytestmark = [pytest.mark.faults, pytest.mark.e2e]

OUTAGE_SECONDS = 20.0
DB_SERVICES = ("indicators", "tasks", "notifier")


def _run_with_outage(system: object, history: History, outage: object) -> RetryingSender:
    batches = history.batches(25)
    sender = RetryingSender(system, batches, pause=0.5)  # type: ignore[arg-type]
    with sender.running():
        sender.wait_sent(len(batches) // 4)
        with outage:  # type: ignore[attr-defined]
            time.sleep(OUTAGE_SECONDS)  # the fault's length, not an assertion on timing
    return sender


def test_consumers_recover_when_sqlite_is_write_locked_for_20_seconds(
    make_system: MakeSystem, history: History
) -> None:
    system = make_system("sqlite")
    paths = [sqlite_path(system.database_urls[name]) for name in DB_SERVICES]
    sender = _run_with_outage(system, history, write_locked(paths))
    outcome = measure(system, history, sender.acknowledged, fault="database unreachable 20 s", backend="sqlite")
    assert_clean(outcome)
    assert system.dead_letters() == 0


@pytest.fixture
def postgres_proxy() -> Iterator[TcpProxy]:
    """A proxy in front of the test PostgreSQL; requested before `make_system`, so it outlives the services."""
    if not POSTGRES_URL:
        pytest.skip("DVC_TEST_POSTGRES_URL is not set")
    target = make_url(POSTGRES_URL)
    proxy = TcpProxy(target.host or "127.0.0.1", target.port or 5432)
    proxy.start()
    yield proxy
    proxy.stop()


@pytest.mark.postgres
def test_consumers_recover_when_postgresql_is_unreachable_for_20_seconds(
    postgres_proxy: TcpProxy, make_system: MakeSystem, history: History
) -> None:
    urls, names = postgres_urls()
    through_proxy = {
        name: make_url(url).set(host="127.0.0.1", port=postgres_proxy.port).render_as_string(hide_password=False)
        for name, url in urls.items()
    }
    system = make_system("postgres", database_urls=through_proxy, drop_databases=names)
    sender = _run_with_outage(system, history, postgres_proxy.down())
    outcome = measure(system, history, sender.acknowledged, fault="database unreachable 20 s", backend="postgres")
    assert_clean(outcome)
    assert system.dead_letters() == 0
