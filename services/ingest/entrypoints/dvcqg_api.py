"""`POST /v1/dvcqg` (the national portal's dossier-sync payloads) and `GET /v1/dvcqg/unmapped` (thin)."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from services.ingest.adapters.dvcqg_store import DossierStore
from services.ingest.domain.keys import KeySpec
from services.ingest.domain.validation import Rejected
from services.ingest.entrypoints.api import producer_guard, read_body
from services.ingest.service_layer.dvcqg_sync import PortalSync
from services.ingest.service_layer.handlers import Ingest
from services.ingest.service_layer.replies import to_problem

DVCQG_PATH = "/v1/dvcqg"
UNMAPPED_PATH = "/v1/dvcqg/unmapped"
ANOMALIES_PATH = "/v1/dvcqg/anomalies"


class RecordResult(BaseModel):
    MaHoSo: str | None
    error_code: int
    message: str
    added: int
    duplicates: int


class PortalAnswer(BaseModel):
    error_code: int
    message: str
    result: list[RecordResult]


class UnmappedProcedureOut(BaseModel):
    source: str
    procedure_code: str
    name: str
    dossiers: int
    first_seen: str
    last_seen: str


class RegressedDossierOut(BaseModel):
    source: str
    dossier_code: str
    status: str | None
    anomalies: int
    last_anomaly: str | None
    updated_at: str


_DESCRIPTION = """The national public-service portal's dossier-sync payloads, exactly as a one-stop system sends
them to the portal: `{"service": "DongBoHoSoMC", "isUpdating": ..., "data": [records]}` (a dossier's current
state) or `{"service": "CapNhatTienDoHoSoMC", "data": [steps]}`. Each record becomes the CloudEvents its fields
imply, with ids derived from (MaHoSo, kind, time): re-sending changes nothing. 200 only after JetStream stored
every event; each record has its own `error_code` (0 kept, 1 invalid record, 2 refused by the event rules,
3 unknown dossier, 4 unknown agency). The key must be bound to an exact source (`urn:dvc:<centre>:dvcqg`).
See docs/integration-dvcqg.md."""

_PROBLEM = {"application/problem+json": {"schema": {"type": "object"}}}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "The body is not valid JSON (line and column given)", "content": _PROBLEM},
    401: {"description": "No key, or an unknown, revoked or expired key", "content": _PROBLEM},
    403: {"description": "The key is bound only to source prefixes", "content": _PROBLEM},
    413: {"description": "Body over the size limit, or an event over NATS max_payload", "content": _PROBLEM},
    422: {"description": "Not a portal payload (`service`, `data`): `errors` names the field", "content": _PROBLEM},
    429: {"description": "Too many requests with this key; retry after `Retry-After` seconds", "content": _PROBLEM},
    503: {"description": "The event log is unavailable; retry after `Retry-After` seconds", "content": _PROBLEM},
}


def _request_body(max_records: int) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["service", "data"],
                        "properties": {
                            "service": {"type": "string", "enum": ["DongBoHoSoMC", "CapNhatTienDoHoSoMC"]},
                            "isUpdating": {},
                            "data": {
                                "type": "array",
                                "maxItems": max_records,
                                "items": {
                                    "description": "A record (an object, every field a string); anything else is "
                                    "refused alone with error_code 1"
                                },
                            },
                        },
                    }
                }
            },
        }
    }


def dvcqg_router(ingest: Ingest, sync: PortalSync, store: DossierStore, max_body_bytes: int) -> APIRouter:
    router = APIRouter(tags=["national portal"])
    producer = Depends(producer_guard(ingest))

    @router.post(
        DVCQG_PATH,
        summary="Receive the national portal's dossier-sync payloads (DongBoHoSoMC, CapNhatTienDoHoSoMC)",
        description=_DESCRIPTION,
        response_model=PortalAnswer,
        responses=_RESPONSES,
        openapi_extra=_request_body(sync.max_records),
    )
    async def post_portal_payload(request: Request, key: KeySpec = producer) -> Response:
        try:
            body = await read_body(request, max_body_bytes)
            document = await sync.receive(key, body)
        except Rejected as rejection:
            raise to_problem(rejection) from None
        return Response(orjson.dumps(document), media_type="application/json")

    @router.get(
        UNMAPPED_PATH,
        summary="National procedure codes (MaTTHC) the mapping table lacks, with how many dossiers used them",
        response_model=list[UnmappedProcedureOut],
        responses={401: _RESPONSES[401]},
    )
    async def unmapped_procedures(key: KeySpec = producer) -> list[UnmappedProcedureOut]:
        rows = await asyncio.to_thread(store.unmapped)
        return [UnmappedProcedureOut(**vars(row)) for row in rows if key.allows(row.source)]

    @router.get(
        ANOMALIES_PATH,
        summary="Dossiers whose portal snapshots went back to an earlier status (recorded, no event added)",
        response_model=list[RegressedDossierOut],
        responses={401: _RESPONSES[401]},
    )
    async def regressed_dossiers(
        key: KeySpec = producer, limit: int = Query(100, ge=1, le=1000)
    ) -> list[RegressedDossierOut]:
        rows = await asyncio.to_thread(store.regressed, limit * 10)
        allowed = [row for row in rows if key.allows(row.source)][:limit]
        return [RegressedDossierOut(**vars(row)) for row in allowed]

    return router
