"""`data` payloads of the dossier.* event types (design §3)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from services.contracts._base import ContractModel
from services.contracts.timebounds import DueDate

Code = Annotated[str, Field(min_length=1, max_length=100)]
Text = Annotated[str, Field(min_length=1, max_length=2000)]
OfficerCode = Annotated[str, Field(min_length=1, max_length=64, description="Pseudonymous staff code, never a name")]
Money = Annotated[int, Field(ge=0, description="Amount in VND")]


class Channel(StrEnum):
    DIRECT = "direct"
    ONLINE = "online"
    POSTAL = "postal"


class ApplicantKind(StrEnum):
    CITIZEN = "citizen"
    BUSINESS = "business"


class Delivery(StrEnum):
    COUNTER = "counter"
    POSTAL = "postal"
    ELECTRONIC = "electronic"


class Applicant(ContractModel):
    kind: ApplicantKind
    name: Annotated[str, Field(min_length=1, max_length=300)]
    phone: Annotated[str | None, Field(max_length=32)] = None
    sms_consent: bool = False


class DossierRef(ContractModel):
    """Fields every dossier.* event carries."""

    dossier_code: Code
    procedure_code: Code
    agency: Code


class DossierSubmitted(DossierRef):
    channel: Channel
    applicant: Applicant


class DossierAccepted(DossierRef):
    channel: Channel
    applicant: Applicant
    receiving_agency: Code
    officer: OfficerCode
    due_at: DueDate
    digitized: bool
    reused_data: bool


class DossierRejected(DossierRef):
    officer: OfficerCode
    reason: Text


class DossierTransferred(DossierRef):
    officer: OfficerCode
    to_agency: Code
    to_officer: OfficerCode


class DossierSupplementRequested(DossierRef):
    officer: OfficerCode
    reason: Text


class DossierSupplementReceived(DossierRef):
    pass


class DossierPaymentRequested(DossierRef):
    fee_amount: Money


class DossierPaid(DossierRef):
    fee_amount: Money
    paid_online: bool


class DossierRescheduled(DossierRef):
    officer: OfficerCode
    new_due_at: DueDate
    reason: Text


class DossierProcessed(DossierRef):
    officer: OfficerCode
    result_electronic: bool
    result_digitized: bool


class DossierReturned(DossierRef):
    delivery: Delivery


class DossierWithdrawn(DossierRef):
    reason: Text


class DossierStopped(DossierRef):
    officer: OfficerCode
    reason: Text
