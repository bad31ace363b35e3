"""The commune's procedure catalogue and organisation, read from the packaged YAML data files."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from services.contracts.catalog import OnlineLevel, ProcedurePublished, TimeLimit

DATA = resources.files("services.simulator") / "data"
AsciiCode = Annotated[str, Field(pattern=r"^[A-Z0-9][A-Z0-9.\-]*$", max_length=64)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Procedure(_Model):
    code: Annotated[str, Field(pattern=r"^(\d\.\d{6}|LT\.\d{4})$")]
    code_basis: Literal["national", "approximate"]
    name: Annotated[str, Field(min_length=3)]
    field: str
    agency: AsciiCode
    level: OnlineLevel
    eligible_full_online: bool
    boundary_free: bool
    business_related: bool
    fee: Annotated[int, Field(ge=0)]
    time_limit: TimeLimit
    weight: Annotated[float, Field(gt=0)]
    applicant: Literal["citizen", "business", "mixed"]

    def published(self) -> ProcedurePublished:
        return ProcedurePublished(
            procedure_code=self.code,
            name=self.name,
            field=self.field,
            level=self.level,
            eligible_full_online=self.eligible_full_online,
            boundary_free=self.boundary_free,
            business_related=self.business_related,
            has_fee=self.fee > 0,
            time_limit=self.time_limit,
        )


class Agency(_Model):
    code: AsciiCode
    name: str


class Officer(_Model):
    code: Annotated[str, Field(pattern=r"^CB-\d{3}$")]
    agency: AsciiCode
    role: Literal["receiver", "handler"]


class Commune(_Model):
    commune: str
    source_prefix: Annotated[str, Field(pattern=r"^urn:dvc:[a-z0-9\-]+$")]
    dossier_prefix: str
    receiving_agency: AsciiCode
    agencies: list[Agency]
    officers: list[Officer]
    transfers: dict[str, list[str]]

    @property
    def receivers(self) -> tuple[str, ...]:
        return tuple(officer.code for officer in self.officers if officer.role == "receiver")

    def handlers(self, agency: str) -> tuple[str, ...]:
        found = tuple(o.code for o in self.officers if o.role == "handler" and o.agency == agency)
        if not found:
            raise ValueError(f"no handler officer in agency {agency}")
        return found

    @property
    def one_stop_source(self) -> str:
        return f"{self.source_prefix}:one-stop"

    @property
    def payments_source(self) -> str:
        return f"{self.source_prefix}:payments"

    @property
    def documents_source(self) -> str:
        return f"{self.source_prefix}:documents"


class Catalog(_Model):
    procedures: list[Procedure]

    def by_code(self) -> dict[str, Procedure]:
        return {procedure.code: procedure for procedure in self.procedures}


def _read(path: Path | None, default_name: str) -> object:
    text = path.read_text(encoding="utf-8") if path else (DATA / default_name).read_text(encoding="utf-8")
    return yaml.safe_load(text)


def load_catalog(path: Path | None = None) -> Catalog:
    """The procedure catalogue (`data/procedures-commune.yaml` unless `path` is given); validated."""
    catalog = Catalog.model_validate(_read(path, "procedures-commune.yaml"))
    codes = [procedure.code for procedure in catalog.procedures]
    if len(set(codes)) != len(codes):
        raise ValueError("duplicate procedure codes in the catalogue")
    return catalog


def load_commune(path: Path | None = None) -> Commune:
    """Agencies, officers and transfer routes (`data/commune-lam-thao.yaml` unless `path` is given)."""
    commune = Commune.model_validate(_read(path, "commune-lam-thao.yaml"))
    known = {agency.code for agency in commune.agencies}
    unknown = ({o.agency for o in commune.officers} | set(commune.transfers)) - known
    unknown |= {target for targets in commune.transfers.values() for target in targets} - known
    if unknown:
        raise ValueError(f"unknown agencies in the commune file: {sorted(unknown)}")
    return commune
