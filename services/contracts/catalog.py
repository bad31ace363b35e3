"""`data` payloads of the procedure, document and feedback event types (design §3)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from services.contracts._base import ContractModel
from services.contracts.dossier import Code


class OnlineLevel(StrEnum):
    FULL = "full"
    PARTIAL = "partial"
    NONE = "none"


class TimeUnit(StrEnum):
    WORKING_DAYS = "working_days"
    WORKING_HOURS = "working_hours"
    DAYS = "days"


class TimeLimit(ContractModel):
    value: Annotated[float, Field(gt=0, le=3650)]
    unit: TimeUnit


class ProcedurePublished(ContractModel):
    procedure_code: Code
    name: Annotated[str, Field(min_length=1, max_length=1000)]
    field: Annotated[str, Field(min_length=1, max_length=300)]
    level: OnlineLevel
    eligible_full_online: bool
    boundary_free: bool
    business_related: bool
    has_fee: bool
    time_limit: TimeLimit


class DocumentCompleted(ContractModel):
    document_id: Code
    agency: Code
    fully_electronic: bool


class FeedbackSubmitted(ContractModel):
    dossier_code: Code
    satisfied: bool
