"""Waiting on state that offers no event for "this happened", with a guard against a hang."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest


async def until(condition: Callable[[], bool], what: str, *, guard_s: float) -> None:
    """Poll ``condition`` every 10 ms; fail the test naming ``what`` after ``guard_s`` seconds."""
    try:
        async with asyncio.timeout(guard_s):
            while True:
                if condition():
                    return
                await asyncio.sleep(0.01)
    except TimeoutError:
        pytest.fail(f"waited in vain for {what}")
