from __future__ import annotations

from collections.abc import Iterator

import pytest

from services.notifier.adapters.providers import HttpSettings, InvalidReceipt, parse_provider_settings, parse_receipt
from services.notifier.adapters.providers.http_gateway import HttpGatewayProvider
from services.notifier.domain.sending import Encoding, ReceiptStatus
from tests.notifier.providers.gateway_stub import GatewayStub, Reply, running_gateway
from tests.notifier.providers.helpers import UNACCENTED_TEXT, VIETNAMESE_TEXT, sms


@pytest.fixture
def gateway() -> Iterator[GatewayStub]:
    with running_gateway() as stub:
        yield stub


def _settings(url: str, **overrides: object) -> HttpSettings:
    base: dict[str, object] = {
        "kind": "http",
        "name": "esms",
        "url": url,
        "headers": {"Authorization": "Bearer ${DVC_TEST_GATEWAY_KEY}"},
        "brandname": "UBND LamThao",
        "timeout_seconds": 0.5,
    }
    [settings] = parse_provider_settings([{**base, **overrides}])
    assert isinstance(settings, HttpSettings)
    return settings


async def test_gateway_receives_the_mapped_body_when_a_vietnamese_message_is_sent(
    gateway: GatewayStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DVC_TEST_GATEWAY_KEY", "secret-key")
    provider = HttpGatewayProvider(_settings(gateway.url))
    message = sms(VIETNAMESE_TEXT, encoding=Encoding.UCS2)

    result = await provider.send(message)
    await provider.close()

    assert result.accepted
    assert result.provider_reference == "gw-1"
    assert result.provider == "esms"
    [request] = gateway.requests
    assert request.headers["Authorization"] == "Bearer secret-key"
    assert request.body == {
        "Phone": "84912345678",
        "Content": VIETNAMESE_TEXT,
        "Brandname": "UBND LamThao",
        "IsUnicode": 1,
        "RequestId": message.notification_id,
        "SmsType": "2",
    }


async def test_gateway_receives_a_custom_template_when_the_body_mapping_is_configured(gateway: GatewayStub) -> None:
    body = {
        "template": {
            "to": ["{phone}"],
            "content": "{text}",
            "sender": "{brandname}",
            "meta": {"ref": "dvc-{reference}"},
        },
        "phone_format": "national",
        "unicode_values": [False, True],
    }
    response = {"code_field": "status", "success_codes": ["success"], "reference_field": "data.tranId"}
    gateway.default = Reply(200, {"status": "success", "data": {"tranId": 777}})
    provider = HttpGatewayProvider(_settings(gateway.url, body=body, response=response))
    message = sms(UNACCENTED_TEXT, encoding=Encoding.GSM7)

    result = await provider.send(message)
    await provider.close()

    assert result.provider_reference == "777"
    assert gateway.requests[0].body == {
        "to": ["0912345678"],
        "content": UNACCENTED_TEXT,
        "sender": "UBND LamThao",
        "meta": {"ref": f"dvc-{message.notification_id}"},
    }


def test_settings_are_refused_when_the_template_has_an_unknown_placeholder() -> None:
    with pytest.raises(ValueError, match=r"unknown placeholder \{mobile\}"):
        _settings("http://x", body={"template": {"Phone": "{mobile}"}})


@pytest.mark.parametrize(
    ("reply", "permanent", "error"),
    [
        (Reply(500, {"ErrorMessage": "internal"}), False, "HTTP 500: internal"),
        (Reply(503, None), False, "HTTP 503"),
        (Reply(429, None), False, "HTTP 429"),
        (Reply(401, {"ErrorMessage": "bad key"}), False, "HTTP 401: bad key"),
        (Reply(400, {"ErrorMessage": "invalid phone"}), True, "HTTP 400: invalid phone"),
        (Reply(200, {"CodeResult": "99", "ErrorMessage": "busy"}), False, "gateway code 99: busy"),
        (Reply(200, {"unexpected": True}), False, "HTTP 200: no CodeResult in the answer"),
    ],
)
async def test_send_is_refused_with_the_right_kind_when_the_gateway_answers_an_error(
    gateway: GatewayStub, reply: Reply, permanent: bool, error: str
) -> None:
    gateway.default = reply
    provider = HttpGatewayProvider(_settings(gateway.url))

    result = await provider.send(sms())
    await provider.close()

    assert (result.accepted, result.permanent, result.error) == (False, permanent, error)


async def test_send_is_refused_permanently_when_the_gateway_code_is_configured_permanent(gateway: GatewayStub) -> None:
    gateway.default = Reply(200, {"CodeResult": "789", "ErrorMessage": "Số điện thoại không hợp lệ"})
    provider = HttpGatewayProvider(_settings(gateway.url, response={"permanent_codes": ["789"]}))

    result = await provider.send(sms())
    await provider.close()

    assert (result.accepted, result.permanent) == (False, True)
    assert result.error == "gateway code 789: Số điện thoại không hợp lệ"


async def test_send_is_unknown_when_the_gateway_answers_after_the_timeout(gateway: GatewayStub) -> None:
    gateway.default = Reply(200, {"CodeResult": "100"}, delay_seconds=1.5)
    provider = HttpGatewayProvider(_settings(gateway.url, timeout_seconds=0.2))

    result = await provider.send(sms())
    await provider.close()

    assert (result.accepted, result.permanent, result.unknown, result.reason) == (
        False,
        False,
        True,
        "provider_timeout",
    )
    assert (result.error, result.provider) == ("gateway timeout (ReadTimeout)", "esms")
    assert len(gateway.requests) == 1  # the gateway got it (and accepted it): it may well be on its way


async def test_send_is_unknown_when_the_connection_drops_after_the_request_was_written(gateway: GatewayStub) -> None:
    gateway.default = Reply(drop=True)
    provider = HttpGatewayProvider(_settings(gateway.url))

    result = await provider.send(sms())
    await provider.close()

    assert (result.accepted, result.unknown, result.reason) == (False, True, "connection_lost")
    assert result.error == "connection lost (RemoteProtocolError)"
    assert len(gateway.requests) == 1


async def test_send_is_unknown_when_a_proxy_answers_504(gateway: GatewayStub) -> None:
    gateway.default = Reply(504, None)
    provider = HttpGatewayProvider(_settings(gateway.url))

    result = await provider.send(sms())
    await provider.close()

    assert (result.accepted, result.unknown, result.error) == (False, True, "HTTP 504")


async def test_send_is_a_temporary_error_when_nothing_listens() -> None:
    with running_gateway() as stub:
        url = stub.url
    provider = HttpGatewayProvider(_settings(url))

    result = await provider.send(sms())
    await provider.close()

    assert (result.accepted, result.permanent, result.unknown) == (False, False, False)  # a definite failure
    assert result.error == "gateway unreachable (ConnectError)"


def test_receipt_is_parsed_when_the_gateway_calls_back_with_its_json() -> None:
    settings = _settings("http://x")

    delivered = parse_receipt(settings, b'{"SMSID": "gw-1", "SendStatus": 2}')
    failed = parse_receipt(settings, {"SMSID": "gw-2", "SendStatus": "4"})
    pending = parse_receipt(settings, '{"SMSID": "gw-3", "SendStatus": "7"}')

    assert (delivered.provider, delivered.provider_reference, delivered.status) == ("esms", "gw-1", "delivered")
    assert failed.status is ReceiptStatus.PERMANENT_FAILURE
    assert pending.status is ReceiptStatus.TEMPORARY_FAILURE


def test_receipt_quotes_our_request_id_when_the_mapping_names_it() -> None:
    settings = _settings("http://x", receipt={"request_id_field": "RequestId"})

    quoting = parse_receipt(settings, {"SMSID": "gw-1", "RequestId": "notif-77", "SendStatus": 2})
    without = parse_receipt(settings, {"SMSID": "gw-2", "SendStatus": 2})

    assert (quoting.provider_reference, quoting.status) == ("notif-77", ReceiptStatus.DELIVERED)
    assert without.provider_reference == "gw-2"


def test_receipt_mapping_is_used_when_the_gateway_uses_other_field_names() -> None:
    settings = _settings(
        "http://x",
        receipt={"reference_field": "data.tranId", "status_field": "data.status", "detail_field": "data.note"},
    )

    receipt = parse_receipt(settings, {"data": {"tranId": 777, "status": "DELIVRD", "note": "ok"}})

    assert (receipt.provider_reference, receipt.status, receipt.detail) == ("777", ReceiptStatus.DELIVERED, "ok")


@pytest.mark.parametrize(
    ("body", "field"),
    [(b"not json", "body"), (b'{"SendStatus": 2}', "SMSID"), (b'{"SMSID": "x"}', "SendStatus"), (b"[1]", "body")],
)
def test_receipt_is_refused_with_the_field_when_the_callback_is_unusable(body: bytes, field: str) -> None:
    with pytest.raises(InvalidReceipt) as caught:
        parse_receipt(_settings("http://x"), body)

    assert caught.value.field == field
