"""Waiting for an asyncio.Event with a deadline, the way every timer loop here does it."""

from __future__ import annotations

import asyncio


async def wait_event(event: asyncio.Event, timeout: float) -> bool:
    """True when `event` is set within `timeout` seconds, False when the time runs out.

    asyncio.timeout rather than asyncio.wait_for: on Python 3.11 wait_for can swallow a cancellation that
    arrives just as the event fires, leaving a background task that never stops."""
    try:
        async with asyncio.timeout(timeout):
            await event.wait()
    except TimeoutError:
        return False
    return True
