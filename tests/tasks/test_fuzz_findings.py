"""What fuzzing the tasks API found (tests/fuzz), each kept as a regression test."""

from __future__ import annotations

from pathlib import Path

import pytest
from nats.js import JetStreamContext

from services.runtime.nats.embedded import EmbeddedNats
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


async def test_url_text_is_refused_with_422_naming_it_when_it_holds_a_nul(
    nats_server: EmbeddedNats, jetstream: JetStreamContext, database_url: str, tmp_path: Path, clock: Clock
) -> None:
    """`?owner=%00` (and any query or path text reaching SQL) answered 500 on PostgreSQL, which refuses NUL."""
    requests = [
        ("/v1/tasks", {"owner": "\x00"}, "query.owner"),
        ("/v1/tasks", {"plan": "a\x00"}, "query.plan"),
        ("/v1/tasks/PL2%00", {}, "path.task_id"),
        ("/v1/audit", {"entity_id": "\x00"}, "query.entity_id"),
        ("/v1/audit", {"plan": "\x1f"}, "query.plan"),
        ("/v1/reports/plan", {"plan": "\x00"}, "query.plan"),
    ]
    async with running_app(settings_for(nats_server.url, database_url, tmp_path), clock) as api:
        answers = [await api.get(path, params=params, headers=auth("KT")) for path, params, _ in requests]
        unknown_owner = await api.get("/v1/tasks", params={"owner": "KHÔNG-CÓ"}, headers=auth("KT"))
    assert [answer.status_code for answer in answers] == [422] * len(requests), [a.text for a in answers]
    assert [[error["field"] for error in answer.json()["errors"]] for answer in answers] == [
        [field] for _, _, field in requests
    ]
    assert (unknown_owner.status_code, unknown_owner.json()) == (200, [])
