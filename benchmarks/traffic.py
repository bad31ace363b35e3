"""Events for the end-to-end benchmarks: dossiers timed now (the notifier sends nothing for old events), posted
to ingest over HTTP."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import orjson

VN = timezone(timedelta(hours=7))
SOURCE = "urn:dvc:bench-e2e"
BACKGROUND_STEPS = ("submitted", "accepted", "processed", "returned")


def event(number: str, code: str, step: str, phone: str | None = None) -> dict[str, Any]:
    """One event of dossier `code`; `phone` given: the applicant consented to SMS at that number."""
    now = datetime.now(VN)
    applicant: dict[str, Any] = {"kind": "citizen", "name": "Nguyễn Thị Hồng Nhung", "phone": phone or "0912345678"}
    applicant["sms_consent"] = phone is not None
    data: dict[str, Any] = {"dossier_code": code, "procedure_code": "1.001193", "agency": "UBND-LAMTHAO"}
    if step == "submitted":
        data |= {"channel": "online", "applicant": applicant}
    elif step == "accepted":
        data |= {
            "channel": "online",
            "applicant": applicant,
            "receiving_agency": "UBND-LAMTHAO",
            "officer": "CB-001",
            "due_at": (now + timedelta(days=5)).isoformat(),
            "digitized": True,
            "reused_data": False,
        }
    elif step == "processed":
        data |= {"officer": "CB-001", "result_electronic": True, "result_digitized": True}
    else:
        data |= {"delivery": "electronic"}
    return {
        "specversion": "1.0",
        "id": f"e2e-{number}",
        "source": SOURCE,
        "type": f"vn.gov.dvc.dossier.{step}",
        "time": now.isoformat(),
        "subject": code,
        "datacontenttype": "application/json",
        "data": data,
    }


def marker_phone(number: int) -> str:
    """A distinct mobile number per marker (daily caps count per phone)."""
    return f"091{number:07d}"


async def post(client: httpx.AsyncClient, url: str, headers: dict[str, str], events: list[dict[str, Any]]) -> None:
    response = await client.post(f"{url}/v1/events", content=orjson.dumps(events), headers=headers)
    if response.status_code != 202:
        raise RuntimeError(f"ingest answered {response.status_code}: {response.text[:300]}")


async def post_many(
    url: str, headers: dict[str, str], batches: list[list[dict[str, Any]]], connections: int = 4
) -> None:
    queue: asyncio.Queue[list[dict[str, Any]]] = asyncio.Queue()
    for batch in batches:
        queue.put_nowait(batch)
    async with httpx.AsyncClient(timeout=60.0) as client:

        async def worker() -> None:
            while not queue.empty():
                await post(client, url, headers, queue.get_nowait())

        await asyncio.gather(*(worker() for _ in range(connections)))


async def wait_visible(client: httpx.AsyncClient, url: str, code: str, timeout: float, every: float = 0.005) -> bool:
    """Poll `GET /v1/dossiers/{code}` until it answers 200."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        try:
            if (await client.get(f"{url}/v1/dossiers/{code}")).status_code == 200:
                return True
        except httpx.HTTPError:  # a timeout on a loaded machine: poll again until the deadline
            pass
        await asyncio.sleep(every)
    return False
