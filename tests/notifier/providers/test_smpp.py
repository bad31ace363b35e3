from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from services.notifier.adapters.providers import SmppSettings, build_providers
from services.notifier.adapters.providers.smpp import SmppProvider
from services.notifier.domain.sending import DeliveryReceipt, Encoding, ReceiptStatus
from tests.notifier.providers.helpers import UNACCENTED_TEXT, VIETNAMESE_TEXT, Receipts, sms
from tests.notifier.providers.smsc_simulator import Smsc

PHONE = "+84912345678"


@pytest.fixture
async def smsc() -> AsyncIterator[Smsc]:
    server = Smsc()
    await server.start()
    yield server
    await server.stop()


def _settings(smsc: Smsc, **overrides: object) -> SmppSettings:
    values: dict[str, object] = {
        "name": "viettel",
        "host": "127.0.0.1",
        "port": smsc.port,
        "system_id": "lamthao",
        "password": "secret",
        "source_addr": "UBNDLamThao",
        "response_timeout_seconds": 2.0,
        "reconnect_delay_seconds": 0.05,
        **overrides,
    }
    return SmppSettings.model_validate(values)


async def _eventually(condition: Callable[[], bool]) -> None:
    """Waits (up to 10 s) for a state the SMSC or the provider reaches in the background."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


async def test_smsc_receives_the_exact_vietnamese_text_in_ucs2_when_a_long_message_is_sent(smsc: Smsc) -> None:
    receipts = Receipts()
    provider = SmppProvider(_settings(smsc), receipts)

    result = await provider.send(sms(VIETNAMESE_TEXT, to=PHONE, encoding=Encoding.UCS2, segments=2))
    [receipt] = await receipts.wait(1)
    await _eventually(lambda: smsc.receipt_acks == 2)
    await provider.close()

    assert result.accepted
    assert smsc.messages() == {"84912345678": VIETNAMESE_TEXT}
    first, second = smsc.submitted
    assert [part.data_coding for part in smsc.submitted] == [0x08, 0x08]
    assert [part.esm_class for part in smsc.submitted] == [0x40, 0x40]
    assert first.udh[:5] == second.udh[:5]
    assert (first.udh[4], first.udh[5], second.udh[5]) == (2, 1, 2)
    assert len(first.user_data) == 134
    assert [part.registered_delivery for part in smsc.submitted] == [1, 1]
    assert (first.source_addr, first.source_ton, first.dest_ton, first.dest_npi) == ("UBNDLamThao", 5, 1, 1)
    assert receipt == DeliveryReceipt("viettel", first.message_id, ReceiptStatus.DELIVERED, "stat:DELIVRD err:000")
    assert result.provider_reference == first.message_id


async def test_smsc_receives_the_exact_unaccented_text_in_gsm7_when_escapes_straddle_a_segment(smsc: Smsc) -> None:
    text = "Lam Thao " * 16 + "Ho so 12" + "{}" + UNACCENTED_TEXT  # '{' (ESC + 0x28) would occupy septets 153-154
    provider = SmppProvider(_settings(smsc), Receipts())

    result = await provider.send(sms(text, to=PHONE, encoding=Encoding.GSM7, segments=2))
    await provider.close()

    assert result.accepted
    assert smsc.messages() == {"84912345678": text}
    assert [part.data_coding for part in smsc.submitted] == [0x00, 0x00]
    assert all(len(part.user_data) <= 153 for part in smsc.submitted)
    assert len(smsc.submitted[0].user_data) == 152  # '{' moved whole to the second segment
    assert smsc.submitted[1].user_data.startswith(b"\x1b(\x1b)")


async def test_smsc_receives_one_plain_segment_when_the_gsm7_text_fits(smsc: Smsc) -> None:
    provider = SmppProvider(_settings(smsc), Receipts())

    await provider.send(sms(UNACCENTED_TEXT, to=PHONE, encoding=Encoding.GSM7, segments=1))
    await provider.close()

    [part] = smsc.submitted
    assert (part.esm_class, part.data_coding, part.udh, part.text) == (0x00, 0x00, b"", UNACCENTED_TEXT)


@pytest.mark.parametrize(
    ("stat", "status"),
    [("UNDELIV", ReceiptStatus.PERMANENT_FAILURE), ("REJECTD", ReceiptStatus.PERMANENT_FAILURE),
     ("EXPIRED", ReceiptStatus.TEMPORARY_FAILURE)],
)  # fmt: skip
async def test_receipt_reports_the_failure_when_the_smsc_could_not_deliver(
    smsc: Smsc, stat: str, status: ReceiptStatus
) -> None:
    smsc.stat_for["84912345678"] = stat
    receipts = Receipts()
    provider = SmppProvider(_settings(smsc), receipts)

    result = await provider.send(sms(VIETNAMESE_TEXT, to=PHONE))
    [receipt] = await receipts.wait(1)
    await provider.close()

    assert (receipt.provider_reference, receipt.status) == (result.provider_reference, status)


@pytest.mark.parametrize(("id_format", "tlvs"), [("decimal", False), ("hex", True)])
async def test_receipt_matches_the_message_when_the_smsc_quotes_the_id_differently(
    smsc: Smsc, id_format: str, tlvs: bool
) -> None:
    smsc.receipt_id_format, smsc.receipt_tlvs = id_format, tlvs
    receipts = Receipts()
    provider = SmppProvider(_settings(smsc), receipts)

    result = await provider.send(sms(VIETNAMESE_TEXT, to=PHONE))
    [receipt] = await receipts.wait(1)
    await provider.close()

    assert (receipt.provider_reference, receipt.status) == (result.provider_reference, ReceiptStatus.DELIVERED)


@pytest.mark.parametrize(("status", "permanent"), [(0x0B, True), (0x58, False), (0x14, False)])
async def test_send_is_refused_with_the_right_kind_when_the_smsc_rejects_the_submit(
    smsc: Smsc, status: int, permanent: bool
) -> None:
    smsc.status_for["84912345678"] = status
    provider = SmppProvider(_settings(smsc), Receipts())

    result = await provider.send(sms(to=PHONE))
    await provider.close()

    assert (result.accepted, result.permanent) == (False, permanent)
    assert result.error is not None
    assert result.error.startswith(f"submit_sm refused: 0x{status:08X}")


async def test_send_is_a_temporary_error_when_the_bind_is_refused(smsc: Smsc) -> None:
    provider = SmppProvider(_settings(smsc, password="wrong"), Receipts())

    result = await provider.send(sms(to=PHONE))
    await provider.close()

    assert (result.accepted, result.permanent) == (False, False)
    assert result.error == "SMSC not bound: bind_transceiver refused: 0x0000000E Invalid Password"
    assert smsc.submitted == []


async def test_send_is_unknown_when_the_smsc_does_not_answer_the_submit(smsc: Smsc) -> None:
    smsc.answer_submits = False
    provider = SmppProvider(_settings(smsc, response_timeout_seconds=0.3), Receipts())

    result = await provider.send(sms(to=PHONE))
    await provider.close()

    assert (result.accepted, result.permanent, result.unknown, result.reason) == (
        False,
        False,
        True,
        "provider_timeout",
    )
    assert result.error == "segment 1/2: no submit_sm_resp within 0.3 s (0/2 segments taken)"
    assert smsc.submits_received == 1  # the second segment is not sent after the first one went unanswered


async def test_acknowledged_segments_are_not_resent_when_the_smsc_stalls_mid_message(smsc: Smsc) -> None:
    smsc.answer_limit = 1
    provider = SmppProvider(_settings(smsc, response_timeout_seconds=0.3), Receipts())

    result = await provider.send(sms(VIETNAMESE_TEXT, to=PHONE, encoding=Encoding.UCS2, segments=2))
    await provider.close()

    [first] = smsc.submitted
    assert (result.accepted, result.unknown, result.provider_reference) == (False, True, first.message_id)
    assert result.error == "segment 2/2: no submit_sm_resp within 0.3 s (1/2 segments taken)"
    assert smsc.submits_received == 2


async def test_send_is_unknown_when_a_later_segment_is_refused_after_the_first_was_taken(smsc: Smsc) -> None:
    smsc.refuse_after = 1
    provider = SmppProvider(_settings(smsc), Receipts())

    result = await provider.send(sms(VIETNAMESE_TEXT, to=PHONE, encoding=Encoding.UCS2, segments=2))
    await provider.close()

    assert (result.accepted, result.unknown, result.reason) == (False, True, "partly_sent")
    assert result.error is not None
    assert result.error.startswith("segment 2/2 submit_sm refused: 0x00000058")
    assert result.error.endswith("(1/2 segments taken)")


async def test_late_submit_response_settles_an_unknown_message_by_its_receipt(smsc: Smsc) -> None:
    smsc.response_delay_seconds = 0.5
    receipts = Receipts()
    provider = SmppProvider(_settings(smsc, response_timeout_seconds=0.2), receipts)
    message = sms("Tin ngan", to=PHONE, encoding=Encoding.GSM7, segments=1)

    result = await provider.send(message)
    [receipt] = await receipts.wait(1)
    await provider.close()

    assert (result.accepted, result.unknown, result.provider_reference) == (False, True, None)
    assert (receipt.provider_reference, receipt.status) == (message.notification_id, ReceiptStatus.DELIVERED)
    assert smsc.submits_received == 1


async def test_provider_binds_again_and_sends_when_the_smsc_dropped_the_connection(smsc: Smsc) -> None:
    provider = SmppProvider(_settings(smsc), Receipts())
    first = await provider.send(sms("Tin 1", to=PHONE, encoding=Encoding.GSM7))

    smsc.drop_connections()
    await _eventually(lambda: smsc.binds == 2 and provider.connected)
    second = await provider.send(sms("Tin 2", to=PHONE, encoding=Encoding.GSM7))
    await provider.close()

    assert (first.accepted, second.accepted) == (True, True)
    assert [part.text for part in smsc.submitted] == ["Tin 1", "Tin 2"]


async def test_provider_keeps_the_link_alive_when_idle(smsc: Smsc) -> None:
    provider = SmppProvider(_settings(smsc, enquire_link_seconds=0.05), Receipts())
    await provider.start()

    await _eventually(lambda: smsc.enquire_links >= 3)
    await provider.close()

    assert smsc.binds == 1
    assert smsc.unbinds == 1


async def test_test_number_never_reaches_the_smsc_when_sent_through_smpp(smsc: Smsc) -> None:
    receipts = Receipts()
    providers = build_providers([_settings(smsc)], receipts)

    result = await providers.provider.send(sms(to="+84900000002"))
    [receipt] = await receipts.wait(1)
    await providers.close()

    assert (result.accepted, receipt.provider, receipt.status) == (True, "viettel", ReceiptStatus.PERMANENT_FAILURE)
    assert smsc.submitted == []


async def test_provider_binds_before_the_first_send_when_started(smsc: Smsc) -> None:
    providers = build_providers([_settings(smsc)], Receipts())

    await providers.start()
    await _eventually(lambda: smsc.binds == 1)
    await providers.close()

    assert (smsc.binds, smsc.submitted, smsc.unbinds) == (1, [], 1)
