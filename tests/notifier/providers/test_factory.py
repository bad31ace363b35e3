from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from services.notifier.adapters.providers import (
    FailoverSettings,
    HttpSettings,
    OutboxSettings,
    SmppSettings,
    UnknownProvider,
    build_providers,
    parse_failover_settings,
    parse_provider_settings,
    read_outbox,
)
from services.notifier.domain.sending import ReceiptStatus
from tests.notifier.providers.helpers import Receipts, sms


def test_settings_are_outbox_defaults_when_configured_by_name() -> None:
    [outbox] = parse_provider_settings("outbox")

    assert outbox == OutboxSettings(name="outbox", path=Path("var/sms-outbox.jsonl"))


def test_settings_keep_the_configured_order_when_given_as_yaml(tmp_path: Path) -> None:
    yaml_text = """
- kind: smpp
  name: viettel
  host: 10.0.0.5
  system_id: lamthao
  source_addr: UBND LamThao
- kind: http
  name: esms
  url: https://gateway.example/send
  headers: {Authorization: "Bearer k"}
  brandname: UBND LamThao
  body: {template: {Phone: "{phone}", Content: "{text}", SmsType: "2"}}
- kind: outbox
  path: /tmp/o.jsonl
"""
    settings_file = tmp_path / "providers.yaml"
    settings_file.write_text(yaml_text)

    parsed = parse_provider_settings(yaml_text)

    assert [(item.kind, item.name) for item in parsed] == [("smpp", "viettel"), ("http", "esms"), ("outbox", "outbox")]
    assert isinstance(parsed[0], SmppSettings)
    assert parsed[0].port == 2775
    assert isinstance(parsed[1], HttpSettings)
    assert parsed[1].body.template == {"Phone": "{phone}", "Content": "{text}", "SmsType": "2"}
    assert parse_provider_settings(f"@{settings_file}") == parsed


def test_settings_are_refused_when_a_provider_lacks_required_fields() -> None:
    with pytest.raises(ValidationError, match="url"):
        parse_provider_settings("http")


def test_factory_is_refused_when_two_providers_share_a_name() -> None:
    with pytest.raises(ValueError, match="unique"):
        build_providers(parse_provider_settings("outbox,outbox"))


async def test_factory_sends_through_the_outbox_when_configured_by_name(tmp_path: Path) -> None:
    receipts = Receipts()
    providers = build_providers([OutboxSettings(path=tmp_path / "o.jsonl")], receipts)

    result = await providers.provider.send(sms("Xin chào"))
    [receipt] = await receipts.wait(1)
    await providers.close()

    assert result.accepted
    assert result.provider == "outbox"
    assert receipt.status is ReceiptStatus.DELIVERED
    assert [record["text"] for record in read_outbox(tmp_path / "o.jsonl")] == ["Xin chào"]
    [health] = providers.health()
    assert (health.provider, health.state, health.sent_total, health.errors_total) == ("outbox", "closed", 1, 0)


def test_outbox_writes_under_the_var_dir_when_no_path_is_configured(tmp_path: Path) -> None:
    [default] = parse_provider_settings("outbox", var_dir=tmp_path)
    [explicit] = parse_provider_settings([{"kind": "outbox", "path": "/srv/o.jsonl"}], var_dir=tmp_path)

    assert default.path == tmp_path / "sms-outbox.jsonl"
    assert explicit.path == Path("/srv/o.jsonl")


def test_failover_thresholds_are_read_when_the_yaml_document_has_a_failover_section() -> None:
    document = """
providers:
  - kind: outbox
failover: {window_seconds: 120, min_requests: 10, error_rate_threshold: 0.3, open_seconds: 15}
"""
    assert [item.kind for item in parse_provider_settings(document)] == ["outbox"]
    assert parse_failover_settings(document) == FailoverSettings(
        window_seconds=120, min_requests=10, error_rate_threshold=0.3, open_seconds=15
    )
    assert parse_failover_settings("outbox") == FailoverSettings()


def test_receipt_in_our_own_format_is_parsed_when_posted_for_the_outbox(tmp_path: Path) -> None:
    providers = build_providers([OutboxSettings(path=tmp_path / "o.jsonl")])

    [receipt] = providers.parse_receipts("outbox", b'{"provider_reference": "outbox-1", "status": "permanent-failure"}')

    assert (receipt.provider, receipt.provider_reference, receipt.status) == (
        "outbox", "outbox-1", ReceiptStatus.PERMANENT_FAILURE
    )  # fmt: skip
    with pytest.raises(UnknownProvider):
        providers.parse_receipts("viettel", b"{}")
