"""The ingest's use cases with in-memory fakes of its ports (keys, event log, metrics): no NATS, no HTTP."""

from __future__ import annotations

from collections import Counter

import orjson
import pytest

from services.ingest.domain.keys import KeySpec
from services.ingest.domain.publishing import TooLarge, Unavailable
from services.ingest.domain.validation import Reason, Rejected
from services.ingest.service_layer.handlers import Ingest
from services.runtime.api_keys import hash_key
from tests.factories import dossier_event
from tests.ingest.fakes import CountingMetrics, FixedKeys, InMemoryEventLog

KEY = "dvcik_unit-test-key"
SPEC = KeySpec(name="one-stop", sha256=hash_key(KEY), sources=("urn:dvc:*",))
STRUCTURED = "application/cloudevents+json"


def _ingest(log: InMemoryEventLog, metrics: CountingMetrics) -> Ingest:
    return Ingest(keys=FixedKeys([SPEC]), publisher=log, metrics=metrics, max_events=10, retry_after_seconds=7)


async def test_event_is_stored_once_and_counted_duplicate_when_sent_twice() -> None:
    log, metrics = InMemoryEventLog(), CountingMetrics()
    ingest = _ingest(log, metrics)
    body = orjson.dumps(dossier_event("dossier.accepted"))

    first = await ingest.accept(SPEC, STRUCTURED, {}, body, "http")
    second = await ingest.accept(SPEC, STRUCTURED, {}, body, "http")

    assert (first["accepted"], first["duplicates"]) == (1, 0)
    assert (second["accepted"], second["duplicates"]) == (0, 1)
    assert len(log.stored) == 1
    assert metrics.accepted == Counter({"dossier.accepted": 1})
    assert metrics.duplicates == Counter({"dossier.accepted": 1})


async def test_nothing_is_stored_and_403_names_the_source_when_the_key_may_not_send_it() -> None:
    log, metrics = InMemoryEventLog(), CountingMetrics()
    payments = KeySpec(name="payments", sha256=hash_key("dvcik_other"), sources=("urn:pay:gateway",))

    with pytest.raises(Rejected) as raised:
        await _ingest(log, metrics).accept(
            payments, STRUCTURED, {}, orjson.dumps(dossier_event("dossier.accepted")), "http"
        )

    assert raised.value.status == 403
    assert raised.value.reason is Reason.FORBIDDEN_SOURCE
    assert log.stored == []
    assert metrics.rejections == Counter({Reason.FORBIDDEN_SOURCE: 1})


async def test_503_with_retry_after_when_the_event_log_is_unavailable() -> None:
    log, metrics = InMemoryEventLog(failure=Unavailable("no responders")), CountingMetrics()

    with pytest.raises(Rejected) as raised:
        await _ingest(log, metrics).accept(
            SPEC, STRUCTURED, {}, orjson.dumps(dossier_event("dossier.accepted")), "http"
        )

    assert (raised.value.status, raised.value.reason) == (503, Reason.UNAVAILABLE)
    assert raised.value.retry_after_seconds == 7
    assert metrics.rejections == Counter({Reason.UNAVAILABLE: 1})


async def test_413_names_the_event_when_the_event_log_finds_it_too_large() -> None:
    log, metrics = InMemoryEventLog(failure=TooLarge({0: 2_000_000}, 1_000_000, 1_048_576)), CountingMetrics()

    with pytest.raises(Rejected) as raised:
        await _ingest(log, metrics).accept(
            SPEC, STRUCTURED, {}, orjson.dumps(dossier_event("dossier.accepted")), "http"
        )

    assert raised.value.reason is Reason.EVENT_TOO_LARGE
    assert metrics.rejections == Counter({Reason.EVENT_TOO_LARGE: 1})


async def test_401_without_publishing_when_the_key_is_unknown() -> None:
    log, metrics = InMemoryEventLog(), CountingMetrics()

    with pytest.raises(Rejected) as raised:
        _ingest(log, metrics).authenticate("Bearer dvcik_not-a-key", "http")

    assert (raised.value.status, raised.value.detail) == (401, "unknown ingest key")
    assert metrics.rejections == Counter({Reason.UNAUTHORIZED: 1})


def test_the_key_is_returned_when_it_is_known() -> None:
    assert _ingest(InMemoryEventLog(), CountingMetrics()).authenticate(f"Bearer {KEY}", "http") == SPEC
