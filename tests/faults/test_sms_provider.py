"""The SMS provider failing (HTTP 500), answering late, and timing out after it accepted, while the history
flows; the outbox is the second provider. Each citizen message must reach the phone exactly once and say
what the truth says: a failure fails over, a late answer is an acceptance, and a timeout is ambiguous (the
gateway may have accepted), so it must not be sent again through another provider."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import orjson
import pytest

from tests.faults.conftest import MakeSystem
from tests.faults.gateway import SmsGateway
from tests.faults.history import History
from tests.faults.outcome import assert_clean, measure
from tests.faults.system import RetryingSender

pytestmark = [pytest.mark.faults, pytest.mark.e2e]

CLIENT_TIMEOUT = 2.0  # the gateway's late answers take a quarter of it, its timeouts twice it


@pytest.fixture
def gateway() -> Iterator[SmsGateway]:
    server = SmsGateway(CLIENT_TIMEOUT)
    server.start()
    yield server
    server.stop()


def _drive(
    gateway: SmsGateway, make_system: MakeSystem, history: History, script: Sequence[tuple[str, int]], fault: str
) -> None:
    """The history through a system whose first provider is `gateway`, which follows `script` (behaviour,
    number of requests), then behaves; measured and recorded as `fault`. The circuit breaker never trips
    (`min_requests` out of reach): each failing request fails over on its own, and the gateway meets every
    step of the script instead of being skipped while the outbox takes the rest of the run."""
    gateway.follow(*script)
    providers = [
        {
            "kind": "http",
            "name": "gateway",
            "url": gateway.url,
            "timeout_seconds": CLIENT_TIMEOUT,
            "test_numbers": False,
            "body": {"phone_format": "e164"},
            "receipt_token": "gateway-callback-token",  # every provider needs one (callbacks fail closed)
        },
        {"kind": "outbox"},
    ]
    setting = orjson.dumps({"providers": providers, "failover": {"min_requests": 100_000}}).decode()
    system = make_system("sqlite", settings={"notifier": {"DVC_NOTIFIER_PROVIDERS": setting}})
    sender = RetryingSender(system, history.batches(25), pause=0.2)
    with sender.running():
        pass
    outcome = measure(
        system, history, sender.acknowledged, fault=fault, backend="sqlite", gateway_deliveries=gateway.deliveries
    )
    seen = ", ".join(f"{mode} {count}" for mode, count in sorted(gateway.modes_seen.items()))
    routes = f"gateway requests: {seen}; outbox took {len(system.outbox_lines())}"
    outcome.details = "; ".join(filter(None, [outcome.details, routes]))
    assert_clean(outcome)


def test_each_sms_reaches_the_phone_once_when_the_provider_fails_then_answers_late(
    gateway: SmsGateway, make_system: MakeSystem, history: History
) -> None:
    script = (("fail", 10), ("late", 30))
    _drive(gateway, make_system, history, script, "SMS provider failing (HTTP 500), then answering late")
    assert gateway.modes_seen.get("late") == 30


def test_each_sms_reaches_the_phone_once_when_the_provider_times_out_after_accepting(
    gateway: SmsGateway, make_system: MakeSystem, history: History
) -> None:
    _drive(gateway, make_system, history, (("timeout", 5),), "SMS provider timing out after accepting")
