"""A migrated database with the tasks service's use cases on it (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from services.runtime.db import create_engine
from services.tasks.adapters.migrate import upgrade
from services.tasks.adapters.plan_file import DEFAULT_PLAN_FILE, read_plan_file
from services.tasks.adapters.unit_of_work import sql_unit_of_work
from services.tasks.service_layer.handlers import TasksService
from services.tasks.service_layer.messages import LoadedPlan
from tests.tasks.helpers import Clock


@pytest.fixture(scope="session")
def lam_thao() -> LoadedPlan:
    return read_plan_file(DEFAULT_PLAN_FILE)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 5, 15, 3, 0, tzinfo=UTC))


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    await upgrade(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def service(engine: AsyncEngine, clock: Clock) -> TasksService:
    return TasksService(uow=sql_unit_of_work(engine), timezone="Asia/Ho_Chi_Minh", now=clock)
