"""The mapping tables of the national portal's payloads (docs/integration-dvcqg.md): agency names to codes,
national procedure codes to ours, channel codes. Configuration, loaded from a JSON file by the adapter."""

from __future__ import annotations

import unicodedata
from functools import cached_property
from typing import Annotated

from pydantic import Field

from services.contracts._base import ContractModel
from services.contracts.dossier import Channel, Code, Delivery

DEFAULT_CHANNELS = {"1": Channel.DIRECT, "2": Channel.ONLINE, "3": Channel.POSTAL}
DEFAULT_FORMS = {"0": Channel.DIRECT, "1": Channel.ONLINE}
DEFAULT_DELIVERIES = {
    Channel.DIRECT: Delivery.COUNTER,
    Channel.ONLINE: Delivery.ELECTRONIC,
    Channel.POSTAL: Delivery.POSTAL,
}


def name_key(name: str) -> str:
    """Agency names compared as the systems type them: Unicode NFC, case and repeated spaces ignored."""
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


class MappingTables(ContractModel):
    """`agencies`: `DonViXuLy` / `DonViTiepNhan` names to agency codes; `procedures`: `MaTTHC` to our procedure
    codes (a code absent here is kept as it came and reported as unmapped); `channels`: `KenhThucHien` codes;
    `forms`: `HinhThuc` codes, used when `KenhThucHien` is absent; `default_agency`: the agency of a record whose
    names are unknown (None: such a record is refused with code 4); `officer`: the officer code of the events
    a snapshot implies (the portal names no officer)."""

    agencies: dict[str, Code] = Field(default_factory=dict)
    procedures: dict[str, Code] = Field(default_factory=dict)
    channels: dict[str, Channel] = Field(default_factory=lambda: dict(DEFAULT_CHANNELS))
    forms: dict[str, Channel] = Field(default_factory=lambda: dict(DEFAULT_FORMS))
    default_channel: Channel = Channel.DIRECT
    default_agency: Code | None = None
    officer: Annotated[str, Field(min_length=1, max_length=64)] = "DVCQG"

    def agency(self, name: str) -> str | None:
        if not name.strip():
            return None
        return self._agencies_by_key.get(name_key(name))

    @cached_property
    def _agencies_by_key(self) -> dict[str, str]:
        return {name_key(name): code for name, code in self.agencies.items()}

    def channel(self, kenh_thuc_hien: str, hinh_thuc: str) -> Channel:
        if kenh_thuc_hien.strip() in self.channels:
            return self.channels[kenh_thuc_hien.strip()]
        return self.forms.get(hinh_thuc.strip(), self.default_channel)
