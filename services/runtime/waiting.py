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


def raise_if_cancelled() -> None:
    """Raise CancelledError when the current task was asked to stop but the request it awaited swallowed that:
    nats-py awaits replies with asyncio.wait_for, which on Python 3.11 returns the reply when it arrives in the
    same turn as the cancellation (a consumer stopped at that instant would otherwise run on)."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
