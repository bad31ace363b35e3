"""Dates in query parameters lie in 2000-2100: outside, a 422 problem naming the parameter, never a 500."""

from __future__ import annotations

import httpx
import pytest
from asgi_lifespan import LifespanManager

from services.indicators.bootstrap import create_app
from services.runtime.nats.embedded import EmbeddedNats
from tests.indicators.app_helpers import connected, settings_for

pytestmark = pytest.mark.timeout(120)

OUT_OF_RANGE = [
    ("/v1/indicators", "from", "0001-01-01T00:00:00+14:00"),
    ("/v1/indicators", "to", "9999-12-31T23:59:59-14:00"),
    ("/v1/leaderboard", "to", "9999-12-31"),
    ("/v1/leaderboard", "from", "1999-12-31"),
    ("/v1/alerts", "since", "0001-01-01"),
    ("/v1/alerts", "since", "2101-01-01T00:00:00"),
]


async def test_out_of_range_dates_are_422_naming_the_parameter_when_given_to_any_endpoint(
    private_nats: EmbeddedNats, database_url: str
) -> None:
    app = create_app(settings_for(private_nats.url, database_url))
    async with (
        connected(private_nats.url),
        LifespanManager(app, startup_timeout=60, shutdown_timeout=30) as manager,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=manager.app), base_url="http://indicators") as api,
    ):
        answers = [(path, name, await api.get(path, params={name: value})) for path, name, value in OUT_OF_RANGE]
        edges = [
            await api.get("/v1/indicators", params={"from": "2000-01-01", "to": "2100-12-31T23:59:59+07:00"}),
            await api.get("/v1/leaderboard", params={"from": "2000-01-01T00:00:00+14:00"}),
            await api.get("/v1/alerts", params={"since": "2100-12-31"}),
        ]

    for path, name, response in answers:
        assert response.status_code == 422, (path, name, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"] == [{"field": name, "reason": "must lie in the years 2000-2100"}]
    assert [response.status_code for response in edges] == [200, 200, 200], [response.text for response in edges]
