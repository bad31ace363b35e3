"""What fuzzing the indicators API found (tests/fuzz), each kept as a regression test."""

from __future__ import annotations

import pytest

from services.runtime.nats.embedded import EmbeddedNats
from tests.indicators.app_helpers import connected, running_app, settings_for

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(120)]


async def test_url_text_is_refused_with_422_naming_it_when_it_holds_a_nul(
    private_nats: EmbeddedNats, database_url: str
) -> None:
    """`?agency=%00` and `/v1/dossiers/%00` answered 500 on PostgreSQL, which refuses NUL in text."""
    async with connected(private_nats.url), running_app(settings_for(private_nats.url, database_url)) as api:
        by_agency = await api.get("/v1/indicators", params={"agency": "UBND\x00"})
        dossier = await api.get("/v1/dossiers/HS%00")
        unknown = await api.get("/v1/dossiers/HS-KHONG-CO")
    assert (by_agency.status_code, dossier.status_code, unknown.status_code) == (422, 422, 404)
    assert [error["field"] for error in by_agency.json()["errors"]] == ["query.agency"]
    assert [error["field"] for error in dossier.json()["errors"]] == ["path.code"]
