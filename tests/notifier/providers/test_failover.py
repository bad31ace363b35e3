from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from services.notifier.adapters.providers import (
    CircuitState,
    FailoverSettings,
    HttpSettings,
    OutboxSettings,
    build_providers,
    parse_provider_settings,
    read_outbox,
)
from services.notifier.adapters.providers.failover import FailoverProvider
from services.notifier.adapters.providers.http_gateway import HttpGatewayProvider
from services.notifier.domain.sending import OutgoingSms, SendResult
from tests.notifier.providers.gateway_stub import GatewayStub, Reply, running_gateway
from tests.notifier.providers.helpers import sms

SETTINGS = FailoverSettings(window_seconds=60, min_requests=3, error_rate_threshold=0.5, open_seconds=30)
HEALTHY = Reply(200, {"CodeResult": "100", "SMSID": "auto"})


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def gateways() -> Iterator[tuple[GatewayStub, GatewayStub]]:
    with running_gateway(Reply(503, {"ErrorMessage": "maintenance"})) as failing, running_gateway() as healthy:
        yield failing, healthy


def _http(name: str, url: str) -> HttpGatewayProvider:
    return HttpGatewayProvider(HttpSettings(name=name, url=url, test_numbers=False))


async def test_messages_go_to_the_next_provider_when_the_first_one_fails(
    gateways: tuple[GatewayStub, GatewayStub],
) -> None:
    failing, healthy = gateways
    clock = FakeClock()
    provider = FailoverProvider([_http("primary", failing.url), _http("backup", healthy.url)], SETTINGS, clock)

    results = [await provider.send(sms()) for _ in range(10)]
    health = {item.provider: item for item in provider.health()}
    await provider.close()

    assert all(result.accepted for result in results)
    assert {result.provider for result in results} == {"backup"}
    assert len(healthy.requests) == 10
    assert len(failing.requests) == 3  # skipped once 3 of 3 recent sends failed
    assert health["primary"].state is CircuitState.OPEN
    assert (health["primary"].window_requests, health["primary"].window_errors) == (3, 3)
    assert health["primary"].last_error == "HTTP 503: maintenance"
    assert health["backup"].state is CircuitState.CLOSED
    assert health["backup"].error_rate == 0.0
    assert health["backup"].latency_p95_seconds is not None


async def test_a_skipped_provider_is_used_again_when_its_probe_succeeds(
    gateways: tuple[GatewayStub, GatewayStub],
) -> None:
    failing, healthy = gateways
    clock = FakeClock()
    provider = FailoverProvider([_http("primary", failing.url), _http("backup", healthy.url)], SETTINGS, clock)
    for _ in range(5):
        await provider.send(sms())

    clock.now += 31  # open period over: one probe goes to the primary, which fails again
    probe = await provider.send(sms())
    after_failed_probe = provider.health()[0].state
    failing.default = HEALTHY  # the primary recovers
    skipped = await provider.send(sms())
    clock.now += 31
    recovered = await provider.send(sms())
    following = await provider.send(sms())
    await provider.close()

    assert (probe.provider, after_failed_probe) == ("backup", CircuitState.OPEN)
    assert skipped.provider == "backup"
    assert (recovered.provider, following.provider) == ("primary", "primary")
    assert provider.health()[0].state is CircuitState.CLOSED
    assert len(failing.requests) == 3 + 1 + 1 + 1


async def test_every_provider_is_still_tried_when_all_are_skipped(gateways: tuple[GatewayStub, GatewayStub]) -> None:
    failing, _ = gateways
    clock = FakeClock()
    provider = FailoverProvider([_http("only", failing.url)], SETTINGS, clock)

    results = [await provider.send(sms()) for _ in range(5)]
    await provider.close()

    assert [result.accepted for result in results] == [False] * 5
    assert results[-1].error == "HTTP 503: maintenance"
    assert len(failing.requests) == 5


async def test_a_permanent_rejection_is_returned_at_once_when_the_message_is_at_fault(
    gateways: tuple[GatewayStub, GatewayStub],
) -> None:
    failing, healthy = gateways
    failing.default = Reply(400, {"ErrorMessage": "invalid phone"})
    provider = FailoverProvider([_http("primary", failing.url), _http("backup", healthy.url)], SETTINGS, FakeClock())

    results = [await provider.send(sms()) for _ in range(4)]
    [primary, _] = provider.health()
    await provider.close()

    assert [(result.permanent, result.provider) for result in results] == [(True, "primary")] * 4
    assert healthy.requests == []
    assert (primary.state, primary.window_errors) == (CircuitState.CLOSED, 0)


class Exploding:
    name = "exploding"

    async def send(self, message: OutgoingSms) -> SendResult:
        raise RuntimeError("bug in a provider")

    async def close(self) -> None:
        return None


async def test_an_exception_counts_as_an_error_when_a_provider_raises(tmp_path: Path) -> None:
    [outbox] = parse_provider_settings([{"kind": "outbox", "path": str(tmp_path / "o.jsonl")}])
    providers = build_providers([outbox])
    provider = FailoverProvider([Exploding(), providers.provider], SETTINGS, FakeClock())

    result = await provider.send(sms("Xin chào"))
    [exploding, _] = provider.health()
    await provider.close()

    assert (result.accepted, result.provider) == (True, "outbox")
    assert (exploding.errors_total, exploding.last_error) == (1, "RuntimeError: bug in a provider")
    assert [record["text"] for record in read_outbox(tmp_path / "o.jsonl")] == ["Xin chào"]


async def test_factory_orders_providers_as_configured_when_several_are_given(
    gateways: tuple[GatewayStub, GatewayStub], tmp_path: Path
) -> None:
    failing, healthy = gateways
    settings = parse_provider_settings(
        [
            {"kind": "http", "name": "primary", "url": failing.url},
            {"kind": "http", "name": "backup", "url": healthy.url},
            OutboxSettings(path=tmp_path / "o.jsonl").model_dump(),
        ]
    )
    providers = build_providers(settings, failover=SETTINGS)

    result = await providers.provider.send(sms())
    await providers.close()

    assert result.provider == "backup"
    assert [item.provider for item in providers.health()] == ["primary", "backup", "outbox"]
    assert [item.sent_total for item in providers.health()] == [1, 1, 0]


async def test_no_failover_when_the_first_provider_may_have_taken_the_message(
    gateways: tuple[GatewayStub, GatewayStub],
) -> None:
    slow, healthy = gateways
    slow.default = Reply(200, {"CodeResult": "100", "SMSID": "auto"}, delay_seconds=1.0)  # accepts, answers late
    primary = HttpGatewayProvider(HttpSettings(name="primary", url=slow.url, test_numbers=False, timeout_seconds=0.2))
    provider = FailoverProvider([primary, _http("backup", healthy.url)], SETTINGS, FakeClock())

    result = await provider.send(sms())
    [health, _] = provider.health()
    await provider.close()

    assert (result.accepted, result.unknown, result.provider) == (False, True, "primary")
    assert (len(slow.requests), len(healthy.requests)) == (1, 0)
    assert health.window_errors == 1  # a provider that does not answer in time is not healthy


async def test_failover_when_the_first_provider_refuses_the_connection(
    gateways: tuple[GatewayStub, GatewayStub],
) -> None:
    _, healthy = gateways
    with running_gateway() as gone:
        url = gone.url
    provider = FailoverProvider([_http("primary", url), _http("backup", healthy.url)], SETTINGS, FakeClock())

    result = await provider.send(sms())
    await provider.close()

    assert (result.accepted, result.provider) == (True, "backup")
    assert len(healthy.requests) == 1
