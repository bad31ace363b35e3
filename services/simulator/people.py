"""Applicants: Vietnamese names and phone numbers (valid mobiles, and the messy ones a commune really has)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum

from services.contracts.dossier import Applicant, ApplicantKind

FAMILY_NAMES = (
    ("Nguyễn", 38), ("Trần", 11), ("Lê", 9), ("Phạm", 7), ("Hoàng", 4), ("Huỳnh", 1), ("Phan", 4), ("Vũ", 4),
    ("Võ", 2), ("Đặng", 2), ("Bùi", 2), ("Đỗ", 2), ("Hồ", 1), ("Ngô", 2), ("Dương", 1), ("Lý", 1), ("Đào", 1),
    ("Đinh", 1), ("Trịnh", 1), ("Lương", 1), ("Tạ", 1), ("Nghiêm", 1),
)  # fmt: skip
MALE_MIDDLE = ("Văn", "Văn", "Đức", "Minh", "Quang", "Hữu", "Xuân", "Thanh", "Ngọc", "Công", "Trọng", "Duy")
FEMALE_MIDDLE = ("Thị", "Thị", "Thị", "Ngọc", "Thu", "Thanh", "Hồng", "Minh", "Phương", "Kim", "Thùy", "Bích")
MALE_GIVEN = (
    "Anh", "Bình", "Cường", "Dũng", "Đạt", "Hải", "Hiếu", "Hùng", "Huy", "Khánh", "Khoa", "Long", "Mạnh",
    "Nam", "Nghĩa", "Phong", "Phúc", "Quân", "Sơn", "Tài", "Thắng", "Thành", "Toàn", "Trung", "Tuấn", "Việt",
)  # fmt: skip
FEMALE_GIVEN = (
    "An", "Anh", "Chi", "Dung", "Giang", "Hà", "Hạnh", "Hằng", "Hoa", "Hương", "Huyền", "Lan", "Linh", "Loan",
    "Mai", "Ngân", "Nhung", "Oanh", "Phương", "Quỳnh", "Tâm", "Thảo", "Thủy", "Trang", "Vân", "Yến",
)  # fmt: skip
BUSINESS_TRADES = (
    "tạp hóa", "ăn uống", "sửa chữa xe máy", "may mặc", "vật liệu xây dựng", "điện thoại", "mộc dân dụng",
    "thu mua nông sản", "in ấn", "cắt tóc", "rau sạch", "đồ gỗ mỹ nghệ",
)  # fmt: skip
# Mobile prefixes in force since the 2018 renumbering (Viettel, MobiFone, VinaPhone, Vietnamobile, Gmobile).
MOBILE_PREFIXES = (
    "032", "033", "034", "035", "036", "037", "038", "039", "086", "096", "097", "098",
    "070", "076", "077", "078", "079", "0896", "0898", "090", "093",
    "081", "082", "083", "084", "085", "088", "091", "094",
    "056", "058", "092", "059",
)  # fmt: skip
LEGACY_PREFIXES = ("0162", "0163", "0164", "0165", "0166", "0167", "0168", "0169", "0120", "0121", "0123", "0124")
BAC_NINH_LANDLINE = "0222"


class PhoneKind(StrEnum):
    """What kind of number an applicant left (ground truth for the notifier's behaviour)."""

    MOBILE = "mobile"  # a valid VN mobile number, national format 0xxxxxxxxx
    MOBILE_INTERNATIONAL = "mobile_international"  # the same written +84xxxxxxxxx
    LEGACY = "legacy"  # an 11-digit pre-2018 mobile number (no longer valid)
    LANDLINE = "landline"  # a Bắc Ninh landline: cannot receive SMS
    MALFORMED = "malformed"  # too short, typo
    MISSING = "missing"  # no phone given


@dataclass(frozen=True, slots=True)
class Person:
    applicant: Applicant
    phone_kind: PhoneKind


def _weighted(rng: random.Random, options: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([name for name, _ in options], weights=[weight for _, weight in options])[0]


def person_name(rng: random.Random) -> str:
    family = _weighted(rng, FAMILY_NAMES)
    if rng.random() < 0.5:
        return f"{family} {rng.choice(MALE_MIDDLE)} {rng.choice(MALE_GIVEN)}"
    return f"{family} {rng.choice(FEMALE_MIDDLE)} {rng.choice(FEMALE_GIVEN)}"


def _mobile(rng: random.Random) -> str:
    prefix = rng.choice(MOBILE_PREFIXES)
    return prefix + "".join(rng.choice("0123456789") for _ in range(10 - len(prefix)))


def phone_number(rng: random.Random, kind: PhoneKind) -> str | None:
    digits = "".join(rng.choice("0123456789") for _ in range(7))
    if kind is PhoneKind.MOBILE:
        return _mobile(rng)
    if kind is PhoneKind.MOBILE_INTERNATIONAL:
        return "+84" + _mobile(rng)[1:]
    if kind is PhoneKind.LEGACY:
        return rng.choice(LEGACY_PREFIXES) + digits
    if kind is PhoneKind.LANDLINE:
        return BAC_NINH_LANDLINE + "3" + digits[:6]
    if kind is PhoneKind.MALFORMED:
        return _mobile(rng)[: rng.randint(6, 9)]
    return None


PHONE_KIND_WEIGHTS: tuple[tuple[PhoneKind, float], ...] = (
    (PhoneKind.MOBILE, 0.80),
    (PhoneKind.MOBILE_INTERNATIONAL, 0.06),
    (PhoneKind.LEGACY, 0.04),
    (PhoneKind.LANDLINE, 0.03),
    (PhoneKind.MALFORMED, 0.03),
    (PhoneKind.MISSING, 0.04),
)


def applicant(rng: random.Random, kind: ApplicantKind, sms_consent_share: float) -> Person:
    """A citizen or a household business with a phone of a random kind and an SMS consent flag."""
    owner = person_name(rng)
    name = owner if kind is ApplicantKind.CITIZEN else f"Hộ kinh doanh {rng.choice(BUSINESS_TRADES)} {owner}"
    phone_kind = rng.choices([k for k, _ in PHONE_KIND_WEIGHTS], weights=[w for _, w in PHONE_KIND_WEIGHTS])[0]
    phone = phone_number(rng, phone_kind)
    consent = phone is not None and rng.random() < sms_consent_share
    return Person(Applicant(kind=kind, name=name, phone=phone, sms_consent=consent), phone_kind)
