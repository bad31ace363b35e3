"""Masking of names and phones in what the operator CLIs print."""

from __future__ import annotations

import orjson

from services.runtime.personal_data import mask_payload, mask_text


def test_applicant_name_and_phone_are_masked_when_a_payload_is_json() -> None:
    event = {
        "type": "vn.gov.dvc.procedure.published",
        "data": {
            "name": "Đăng ký khai sinh",
            "applicant": {"kind": "citizen", "name": "Nguyễn Thị Hồng Nhung", "phone": "+84 912 345 678"},
            "note": "gọi lại số 0987.654.321",
            "dossier_code": "000.00.30.H04-260302-0001",
        },
    }

    masked = orjson.loads(mask_payload(orjson.dumps(event)))

    assert masked["data"]["applicant"] == {"kind": "citizen", "name": "N*** T*** H*** N***", "phone": "09******78"}
    assert masked["data"]["name"] == "Đăng ký khai sinh"
    assert masked["data"]["note"] == "gọi lại số 09******21"
    assert masked["data"]["dossier_code"] == "000.00.30.H04-260302-0001"


def test_phones_and_quoted_names_are_masked_when_the_text_is_not_json() -> None:
    assert mask_text('name="Trần Văn Bình" phone: "0912345678" at 2026-03-02T08:15:00') == (
        'name="T*** V*** B***" phone: "09******78" at 2026-03-02T08:15:00'
    )
    assert mask_payload(b"raw 84912345678,") == b"raw 09******78,"
