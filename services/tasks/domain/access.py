"""Write access: a bearer key per unit (or admin); only a key's SHA-256 is stored.

A unit key may report on the indicators and tasks its unit owns (an indicator may have several owners); an
admin key may change anything. `plans` narrows a key to some plans (`*`: every plan). The name, hash and
creation time are the shared stored key (services.contracts.keys); hashing, the keys file and lookup by hash are
shared too (services.runtime.api_keys).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.contracts.keys import StoredKey
from services.tasks.domain.plan import UnitCode

KEY_PREFIX = "dvctk_"


class KeySpec(StoredKey):
    unit: UnitCode | None = None
    admin: bool = False
    plans: Annotated[tuple[str, ...], Field(min_length=1)] = ("*",)

    @model_validator(mode="after")
    def _unit_or_admin(self) -> KeySpec:
        if self.admin == (self.unit is not None):
            raise ValueError("a key is either bound to one unit or admin")
        return self


class Principal(BaseModel):
    """Who is acting: a key's name and its unit (None for an admin)."""

    model_config = ConfigDict(frozen=True)

    name: str
    unit: str | None
    admin: bool
    plans: tuple[str, ...] = ("*",)

    def covers(self, plan_id: str) -> bool:
        return "*" in self.plans or plan_id in self.plans

    def may_act_for(self, plan_id: str, owners: Iterable[str]) -> bool:
        if not self.covers(plan_id):
            return False
        return self.admin or self.unit in set(owners)

    @property
    def label(self) -> str:
        return f"{self.name} (admin)" if self.admin else f"{self.name} ({self.unit})"


SYSTEM = Principal(name="system", unit=None, admin=True)


def principal_of(spec: KeySpec) -> Principal:
    return Principal(name=spec.name, unit=spec.unit, admin=spec.admin, plans=spec.plans)
