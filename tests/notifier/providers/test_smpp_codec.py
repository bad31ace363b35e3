from __future__ import annotations

from services.notifier.adapters.providers.smpp_codec import (
    DATA_CODING_UCS2,
    encode_segments,
    message_id_variants,
    parse_smsc_receipt,
)
from services.notifier.domain.sending import Encoding, ReceiptStatus
from tests.notifier.providers.smsc_simulator import decode_gsm7_unpacked


def test_segments_keep_surrogate_pairs_whole_when_an_emoji_crosses_the_boundary() -> None:
    text = "Đ" * 66 + "😀" + "ã" * 10

    segments = encode_segments(text, Encoding.UCS2, reference=7)

    assert len(segments) == 2
    assert len(segments[0].short_message) == 6 + 66 * 2
    assert "".join(segment.short_message[6:].decode("utf-16-be") for segment in segments) == text


def test_segments_fall_back_to_ucs2_when_the_text_is_not_gsm7() -> None:
    [segment] = encode_segments("Giá `mới`", Encoding.GSM7, reference=1)

    assert segment.data_coding == DATA_CODING_UCS2
    assert segment.short_message.decode("utf-16-be") == "Giá `mới`"


def test_segments_encode_the_whole_gsm7_alphabet_when_every_character_is_used() -> None:
    text = "@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./09:;<=>?¡AZÄÖÑ\u00dc\u00a7¿azäöñüà^{}\\[~]|€"

    [segment] = encode_segments(text, Encoding.GSM7, reference=1)

    assert segment.data_coding == 0x00
    assert decode_gsm7_unpacked(segment.short_message) == text


def test_receipt_is_parsed_when_the_smsc_sends_the_usual_text_format() -> None:
    text = b"id:0A1B sub:001 dlvrd:000 submit date:2603011200 done date:2603011201 stat:UNDELIV err:012 text:Ho so"

    receipt = parse_smsc_receipt(text, None, None)

    assert receipt is not None
    assert (receipt.message_id, receipt.stat, receipt.status, receipt.error) == (
        "0A1B", "UNDELIV", ReceiptStatus.PERMANENT_FAILURE, "012"
    )  # fmt: skip


def test_receipt_is_intermediate_when_the_smsc_reports_enroute() -> None:
    receipt = parse_smsc_receipt(b"id:1 stat:ENROUTE", None, None)

    assert receipt is not None
    assert receipt.status is None


def test_message_id_has_its_hex_twin_when_the_smsc_quotes_it_in_decimal() -> None:
    assert "1a2b0001" in message_id_variants(str(0x1A2B0001))
    assert "439025665" in message_id_variants("1a2b0001")


def test_segments_stay_gsm7_when_the_text_has_a_page_break() -> None:
    [segment] = encode_segments("Trang 1\fTrang 2", Encoding.GSM7, reference=1)

    assert segment.data_coding == 0x00
    assert decode_gsm7_unpacked(segment.short_message) == "Trang 1\fTrang 2"
