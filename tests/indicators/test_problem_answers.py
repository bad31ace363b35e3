"""Issue 11, item 8: periods that overflow in UTC used to answer 500 text/plain. Whatever the API makes of them
(422 once the query bounds reject them, else the catch-all 500), the answer is problem+json."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.runtime.nats.embedded import EmbeddedNats
from tests.indicators.app_helpers import connected, running_app, settings_for

pytestmark = pytest.mark.timeout(120)


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v1/indicators", {"from": "0001-01-01T00:00:00+14:00"}),
        ("/v1/leaderboard", {"to": "9999-12-31T23:00:00-12:00"}),
    ],
    ids=["indicators-from-0001-01-01-plus-14", "leaderboard-to-9999-12-31-minus-12"],
)
async def test_period_overflowing_in_utc_answers_problem_json_when_asked(
    private_nats: EmbeddedNats, path: str, params: dict[str, str], tmp_path: Path
) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path}/indicators.db"
    async with connected(private_nats.url), running_app(settings_for(private_nats.url, database_url)) as api:
        response = await api.get(path, params=params)

    assert response.status_code in (422, 500)
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == response.status_code
    if response.status_code == 500:
        assert body["correlation_id"] == response.headers["x-correlation-id"]
    assert "Traceback" not in response.text
    assert "SELECT" not in response.text
