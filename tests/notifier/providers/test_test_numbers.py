from __future__ import annotations

from pathlib import Path

import pytest

from services.notifier.adapters.providers import OutboxSettings, build_providers, read_outbox
from services.notifier.domain.sending import ReceiptStatus
from tests.notifier.providers.helpers import Receipts, sms


@pytest.mark.parametrize(
    ("number", "status"),
    [
        ("+84900000001", ReceiptStatus.DELIVERED),
        ("+84900000002", ReceiptStatus.PERMANENT_FAILURE),
        ("+84900000003", ReceiptStatus.TEMPORARY_FAILURE),
    ],
)
async def test_test_number_gets_its_documented_receipt_when_sent_without_reaching_the_provider(
    tmp_path: Path, number: str, status: ReceiptStatus
) -> None:
    receipts = Receipts()
    providers = build_providers([OutboxSettings(path=tmp_path / "o.jsonl")], receipts)

    result = await providers.provider.send(sms(to=number))
    [receipt] = await receipts.wait(1)
    await providers.close()

    assert result.accepted
    assert (receipt.provider, receipt.provider_reference, receipt.status) == (
        "outbox",
        result.provider_reference,
        status,
    )
    assert read_outbox(tmp_path / "o.jsonl") == []


@pytest.mark.parametrize(("number", "permanent"), [("+84900000004", True), ("+84900000005", False)])
async def test_test_number_is_refused_at_send_when_it_simulates_a_rejection(
    tmp_path: Path, number: str, permanent: bool
) -> None:
    providers = build_providers([OutboxSettings(path=tmp_path / "o.jsonl")], Receipts())

    result = await providers.provider.send(sms(to=number))
    await providers.close()

    assert (result.accepted, result.permanent) == (False, permanent)
    assert read_outbox(tmp_path / "o.jsonl") == []


async def test_test_number_reaches_the_provider_when_test_numbers_are_disabled(tmp_path: Path) -> None:
    providers = build_providers([OutboxSettings(path=tmp_path / "o.jsonl", test_numbers=False)], Receipts())

    result = await providers.provider.send(sms(to="+84900000002"))
    await providers.close()

    assert result.accepted
    assert [record["to"] for record in read_outbox(tmp_path / "o.jsonl")] == ["+84900000002"]
