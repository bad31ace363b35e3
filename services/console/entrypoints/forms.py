"""The two small HTML forms (sign-in, lookup) read as `application/x-www-form-urlencoded` with the standard
library: no multipart parser, and a malformed or oversized field is just an empty or cut value, never a 4xx page
the citizen cannot read."""

from __future__ import annotations

from urllib.parse import parse_qs

from fastapi import Request


async def form_fields(request: Request, limits: dict[str, int]) -> dict[str, str]:
    """The first value of each field named in `limits`, stripped and cut to its limit ("" when absent)."""
    body = await request.body()  # LimitsMiddleware caps it (max_body_bytes of the console)
    parsed = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True, max_num_fields=20)
    return {name: (parsed.get(name) or [""])[0].strip()[:limit] for name, limit in limits.items()}
