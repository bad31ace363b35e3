"""Polling an asynchronous outcome in tests: the services are asynchronous by design, so a test waits for a result,
bounded, and a failure names the check that never held."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any


async def _answer(check: Callable[[], Awaitable[Any] | Any]) -> Any:
    result = check()
    return await result if inspect.isawaitable(result) else result


async def eventually(check: Callable[[], Awaitable[Any] | Any], timeout: float = 60.0, interval: float = 0.1) -> Any:
    """Poll `check` (async or not) until it returns a truthy value; AssertionError after `timeout` seconds, also
    when one call never answers (a request stuck on a lock fails here, named, not at the test's timeout)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    name = getattr(check, "__qualname__", repr(check))
    while True:
        try:
            result = await asyncio.wait_for(_answer(check), timeout=max(deadline - loop.time(), 1.0))
        except TimeoutError:
            raise AssertionError(f"{name}: no answer within {timeout} s") from None
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"{name}: condition not met within {timeout} s")
        await asyncio.sleep(interval)
