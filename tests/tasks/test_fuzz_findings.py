"""What fuzzing the tasks API found (tests/fuzz), each kept as a regression test."""

from __future__ import annotations

from pathlib import Path

import pytest
from nats.js import JetStreamContext

from services.runtime.embedded_nats import EmbeddedNats
from tests.tasks.helpers import Clock, auth, running_app, settings_for

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(120)]


async def test_audit_answers_422_naming_before_id_when_it_exceeds_a_row_id(
    nats_server: EmbeddedNats, jetstream: JetStreamContext, database_url: str, tmp_path: Path, clock: Clock
) -> None:
    """`GET /v1/audit?before_id=4901610286032954026711056384` answered 500: the id overflowed the database's
    integer (SQLite's 64 bits, PostgreSQL's 32)."""
    async with running_app(settings_for(nats_server.url, database_url, tmp_path), clock) as api:
        huge = await api.get("/v1/audit", params={"before_id": "4901610286032954026711056384"}, headers=auth("KT"))
        over = await api.get("/v1/audit", params={"before_id": str(2**31)}, headers=auth("KT"))
        largest = await api.get("/v1/audit", params={"before_id": str(2**31 - 1)}, headers=auth("KT"))
    assert (huge.status_code, over.status_code, largest.status_code) == (422, 422, 200)
    assert huge.headers["content-type"] == "application/problem+json"
    assert [error["field"] for error in huge.json()["errors"]] == ["query.before_id"]
