"""Portal payloads built the way open-source one-stop systems build them: every field a string, empty strings
for what is absent, optional arrays missing. One dossier's life as five successive `DongBoHoSoMC` snapshots and
one `CapNhatTienDoHoSoMC` step, and the same life written as CloudEvents by hand."""

from __future__ import annotations

import copy
from typing import Any

from services.ingest.domain.dvcqg_events import pseudonym
from tests.factories import dossier_event

CODE = "000.00.30.H04-260302-0007"
PORTAL_SOURCE = "urn:dvc:lam-thao:dvcqg"
MAPPING_FILE = "deploy/dvcqg/mapping.json"
OFFICER_NAME = "Trần Văn Bình"


def snapshot_record(code: str = CODE, **fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "MaHoSo": code,
        "MaTTHC": "1.001193",
        "TenTTHC": "Đăng ký khai sinh",
        "MaLinhVuc": "HT",
        "TenLinhVuc": "Hộ tịch",
        "ChuHoSo": "Nguyễn Thị Hồng Nhung",
        "LoaiDoiTuong": "1",
        "MaDoiTuong": "",
        "ThongTinKhac": "",
        "Email": "",
        "Fax": "",
        "SoDienThoai": "0912345678",
        "TrichYeuHoSo": "Đăng ký khai sinh cho con",
        "NgayTiepNhan": "20260302081500",
        "NgayHenTra": "20260305170000",
        "TrangThaiHoSo": "2",
        "NgayTra": "",
        "ThongTinTra": "",
        "HinhThuc": "0",
        "NgayKetThucXuLy": "",
        "DonViXuLy": "UBND xã Lâm Thao",
        "GhiChu": "",
        "TaiLieuNop": [{"TepDinhKemId": "1", "TenTepDinhKem": "To khai.pdf", "DuongDanTaiTepTin": ""}],
        "DanhSachLePhi": [],
        "KenhThucHien": "2",
        "DonViTiepNhan": "Trung tâm Phục vụ hành chính công xã Lâm Thao",
    }
    record.update(fields)
    return record


def supplement(**fields: str) -> dict[str, str]:
    item = {
        "HoSoBoSungId": "1",
        "NguoiYeuCauBoSung": "Lê Thị Hoa",
        "NoiDungBoSung": "Thiếu bản sao giấy chứng sinh",
        "NgayBoSung": "20260303090000",
        "NguoiTiepNhanBoSung": "",
        "ThongTinTiepNhan": "",
        "NgayTiepNhanBoSung": "",
        "TrangThaiBoSung": "0",
        "NgayHenTraTruoc": "20260305170000",
        "NgayHenTraMoi": "",
    }
    item.update(fields)
    return item


def life(code: str = CODE) -> list[dict[str, Any]]:
    """The five snapshots, in the order the system sent them (accepted, supplement asked, supplement received
    with a new date, processed, returned)."""
    asked = supplement()
    received = supplement(NgayTiepNhanBoSung="20260304100000", TrangThaiBoSung="1", NgayHenTraMoi="20260306170000")
    first = snapshot_record(code)
    second = snapshot_record(code, TrangThaiHoSo="5", DanhSachHoSoBoSung=[asked])
    third = snapshot_record(code, TrangThaiHoSo="4", NgayHenTra="20260306170000", DanhSachHoSoBoSung=[received])
    fourth = {**third, "TrangThaiHoSo": "9", "NgayKetThucXuLy": "20260305150000"}
    fifth = {**fourth, "TrangThaiHoSo": "10", "NgayTra": "20260306090000", "DanhSachGiayToKetQua": [{"x": "1"}]}
    fourth["DanhSachGiayToKetQua"] = [{"x": "1"}]
    return [copy.deepcopy(record) for record in (first, second, third, fourth, fifth)]


def step(code: str = CODE, **fields: str) -> dict[str, str]:
    record = {
        "MaHoSo": code,
        "NguoiXuLy": OFFICER_NAME,
        "ChucDanh": "Công chức Tư pháp - Hộ tịch",
        "ThoiDiemXuLy": "20260302100000",
        "PhongBanXuLy": "Phòng Kinh tế",
        "NoiDungXuLy": "Chuyển xử lý",
        "TrangThai": "4",
        "NgayBatDau": "20260302100000",
        "NgayKetThucTheoQuyDinh": "20260305170000",
    }
    record.update(fields)
    return record


def snapshots(*records: dict[str, Any]) -> dict[str, Any]:
    return {"service": "DongBoHoSoMC", "isUpdating": True, "data": list(records)}


def steps(*records: dict[str, Any]) -> dict[str, Any]:
    return {"service": "CapNhatTienDoHoSoMC", "data": list(records)}


def life_as_cloudevents(code: str = CODE) -> list[dict[str, Any]]:
    """The same life as a producer would send it as CloudEvents (another source, its own ids)."""
    applicant = {"kind": "citizen", "name": "Nguyễn Thị Hồng Nhung", "sms_consent": False}
    at = "+07:00"
    return [
        dossier_event(
            "dossier.accepted",
            code,
            time=f"2026-03-02T08:15:00{at}",
            channel="online",
            applicant=applicant,
            receiving_agency="TTPVHCC-LAMTHAO",
            officer="DVCQG",
            due_at=f"2026-03-05T17:00:00{at}",
            digitized=True,
        ),
        dossier_event(
            "dossier.transferred",
            code,
            time=f"2026-03-02T10:00:00{at}",
            officer="DVCQG",
            to_agency="PHONG-KT",
            to_officer=pseudonym(OFFICER_NAME),
        ),
        dossier_event(
            "dossier.supplement_requested", code, time=f"2026-03-03T09:00:00{at}", officer="DVCQG", reason="Thiếu"
        ),
        dossier_event("dossier.supplement_received", code, time=f"2026-03-04T10:00:00{at}"),
        dossier_event(
            "dossier.rescheduled",
            code,
            time=f"2026-03-04T10:00:00{at}",
            officer="DVCQG",
            new_due_at=f"2026-03-06T17:00:00{at}",
        ),
        dossier_event("dossier.processed", code, time=f"2026-03-05T15:00:00{at}", officer="DVCQG"),
        dossier_event("dossier.returned", code, time=f"2026-03-06T09:00:00{at}", delivery="electronic"),
    ]
