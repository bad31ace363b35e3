"""Dates an API client gives the tasks service lie in 2000-2100: outside, a 422 problem naming the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from nats.js import JetStreamContext

from services.runtime.nats.embedded import EmbeddedNats
from tests.tasks.helpers import Clock, auth, running_app, settings_for

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
async def api(
    nats_server: EmbeddedNats, jetstream: JetStreamContext, database_url: str, tmp_path: Path, clock: Clock
) -> Any:
    async with running_app(settings_for(nats_server.url, database_url, tmp_path), clock) as client:
        yield client


@pytest.mark.parametrize("deadline", ["9999-12-31", "0001-01-01", "1999-12-31", "2101-01-01"])
async def test_deadline_outside_2000_to_2100_is_refused_naming_the_field_when_a_task_is_changed_or_added(
    api: httpx.AsyncClient, deadline: str
) -> None:
    task = {"id": "BS.9", "title": "Tổ chức ngày hội chuyển đổi số xã", "owner": "VHXH", "deadline": deadline}

    changed = await api.patch("/v1/tasks/PL2.NV1", json={"deadline": deadline}, headers=auth("admin"))
    added = await api.post("/v1/tasks", json=task, headers=auth("admin"))

    for response in (changed, added):
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        fields = [(error["field"], error["reason"]) for error in response.json()["errors"]]
        assert fields == [("body.deadline", "Value error, must lie in the years 2000-2100")]
    assert (await api.get("/v1/tasks/PL2.NV1", headers=auth("admin"))).json()["deadline"] == "2026-12-31"
