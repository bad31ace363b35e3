"""HTTP calls to the other services' APIs: the console computes nothing, it shows what they answer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any  # the parsed JSON body, or None


class Upstreams:
    def __init__(self, urls: Mapping[str, str], timeout: float) -> None:
        self.urls = dict(urls)
        self.client = httpx.AsyncClient(timeout=timeout, trust_env=False)

    async def close(self) -> None:
        await self.client.aclose()

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        key: str | None = None,
        json: Any = None,
    ) -> Answer:
        """502 (body None) when the service cannot be reached or answers something that is not JSON."""
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        try:
            response = await self.client.request(
                method, self.urls[service] + path, params=params, headers=headers, json=json
            )
            body = response.json() if response.content else None
        except (httpx.HTTPError, ValueError):
            return Answer(502, None)
        return Answer(response.status_code, body)
