"""What fuzzing ingest found (tests/fuzz), each kept as a regression test."""

from __future__ import annotations

import httpx
import pytest
from nats.js import JetStreamContext

from tests.factories import dossier_event
from tests.ingest.conftest import post_events, stream_count

pytestmark = pytest.mark.timeout(60)


async def test_event_id_is_refused_with_422_when_it_holds_a_line_break(
    ingest: httpx.AsyncClient, jetstream: JetStreamContext
) -> None:
    """`source:id` is the JetStream message id, a NATS header where CR/LF became spaces: the event `a\\r\\nb` was
    stored and the distinct event `a  b` then answered "duplicate" and lost."""
    before = await stream_count(jetstream)
    refused = await post_events(ingest, dossier_event("dossier.submitted", event_id="fuzz-a\r\nb"))
    source = dossier_event("dossier.submitted", event_id="fuzz-c", source="urn:dvc:lam-thao\x00:one-stop")
    refused_source = await post_events(ingest, source)
    spaced = await post_events(ingest, dossier_event("dossier.submitted", event_id="fuzz-a  b"))
    assert (refused.status_code, refused_source.status_code, spaced.status_code) == (422, 422, 202)
    assert [error["field"] for error in refused.json()["errors"]] == ["id"]
    assert [error["field"] for error in refused_source.json()["errors"]] == ["source"]
    assert spaced.json()["results"][0]["status"] == "accepted"
    assert await stream_count(jetstream) == before + 1
