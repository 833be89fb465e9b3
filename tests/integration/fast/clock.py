"""Moving the frozen clock, and letting Home Assistant finish what that started.

The stream loop is a background task whose blocking work (loading a model, predicting) runs in the
executor; ``async_block_till_done`` does not wait for either on every Home Assistant version.
``until`` checks what the test expects after each round of the event loop and, between rounds,
gives the executor's threads a moment (a thread sleeps, not the frozen event loop clock), so it
waits for work, never for a timer: timers move only with ``advance``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import async_fire_time_changed_exact

ROUNDS = 400
THREAD_PAUSE_S = 0.005


async def until(hass: HomeAssistant, condition: Callable[[], bool], what: str) -> None:
    for _ in range(ROUNDS):
        await hass.async_block_till_done()
        if condition():
            return
        await hass.loop.run_in_executor(None, time.sleep, THREAD_PAUSE_S)
    raise AssertionError(f"{what}: not after {ROUNDS} rounds of the event loop")


async def advance(hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float) -> None:
    """Move the clock and run whatever became due (timeouts, back-off, interval timers).

    The exact variant: the plain one also fires what is due up to half a second later.
    """
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed_exact(hass)
    await hass.async_block_till_done()
