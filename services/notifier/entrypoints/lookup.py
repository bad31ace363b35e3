"""POST /v1/lookup: does this dossier's applicant phone end with these four digits? The citizen lookup page
(the console's /tra-cuu) asks it with an operator key; the phone never leaves the notifier, the answer is only
found or "không tìm thấy". Attempts are limited per dossier code here, whoever asks (the console also limits
per client address, which only it sees)."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.notifier.adapters.crypto import PhoneVault
from services.notifier.adapters.tables import contacts
from services.notifier.domain.operators import KeySpec
from services.notifier.domain.phones import national_digits
from services.notifier.entrypoints.access import OPERATOR_ERRORS, operator_guard
from services.runtime.api_keys import KeyStore
from services.runtime.attempts import AttemptLimiter
from services.runtime.problems import Problem

NOT_FOUND = "không tìm thấy"


class LookupRequest(BaseModel):
    dossier_code: Annotated[str, Field(min_length=1, max_length=256)]
    phone_last4: Annotated[str, Field(pattern=r"^[0-9]{4}$", description="The last four digits of the phone")]


class LookupAnswer(BaseModel):
    dossier_code: str
    found: bool = Field(description="Always true: a wrong combination is a 404")


def phone_ends_with(e164: str | None, last4: str) -> bool:
    digits = national_digits(e164 or "")
    return len(digits) >= 4 and hmac.compare_digest(digits[-4:].encode(), last4.encode())


def build_lookup_router(
    sessions: async_sessionmaker[AsyncSession],
    vault: PhoneVault,
    operator_keys: KeyStore[KeySpec],
    per_code: AttemptLimiter,
) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["citizen lookup"])
    errors = {
        **OPERATOR_ERRORS,
        404: {"description": "Không tìm thấy: no such dossier, or another phone", "content": {}},
    }

    @router.post(
        "/lookup",
        dependencies=[Depends(operator_guard(operator_keys))],
        responses=errors,
        summary="Check a dossier code against the last four digits of its applicant's phone",
    )
    async def lookup(request: LookupRequest) -> LookupAnswer:
        code = request.dossier_code.strip()
        wait = per_code.retry_after(code)
        if wait is not None:
            raise Problem(429, "quá nhiều lần tra cứu hồ sơ này; vui lòng thử lại sau", headers=_retry(wait))
        per_code.record(code)
        async with sessions() as session:
            stored = (
                await session.execute(select(contacts.c.phone_encrypted).where(contacts.c.dossier_code == code))
            ).scalar_one_or_none()
        if stored is None or not phone_ends_with(vault.decrypt(stored), request.phone_last4):
            raise Problem(404, NOT_FOUND)
        return LookupAnswer(dossier_code=code, found=True)

    return router


def _retry(seconds: float) -> dict[str, str]:
    return {"Retry-After": str(int(seconds) + 1)}
