"""Readings held back before entities see them: by the delay option, and until their audio plays.

A source that receives audio before the speakers play it (a Sendspin player, ahead by the server's
buffer) says how long until it is heard; the delay option shifts that (a negative delay releases
readings earlier, never before they exist). The stream loop's delay plan says how (hold or
advance). Held readings wait in a bounded queue (music_mood_core.delay.DelayLine), released in
order by one timer.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Final

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later

from .music_mood_core.delay import DelayLine, DelayPlan, Lateness
from .music_mood_core.stream_loop import MoodReading

# How far ahead of its arrival a source's audio may play (room kept in the queue for it).
MAX_HEARD_AHEAD_S: Final = 10.0


class HeldReadings:
    """Publishes each reading when it is due; ``cancel`` drops what is still held."""

    def __init__(
        self,
        hass: HomeAssistant,
        plan: Callable[[], DelayPlan],
        hop_s: Callable[[], float],
        publish: Callable[[MoodReading], None],
    ) -> None:
        self._hass = hass
        self._plan = plan
        self._hop_s = hop_s
        self._publish = publish
        self._line: DelayLine[MoodReading] | None = None
        self._line_plan: DelayPlan | None = None
        self._cancel_timer: CALLBACK_TYPE | None = None
        self._timer_due_at = 0.0

    @property
    def lateness(self) -> Lateness:
        """Readings that came too late for the plan (diagnostics)."""
        return Lateness() if self._line is None else self._line.lateness

    @callback
    def push(self, reading: MoodReading, heard_in_s: float | None = None) -> None:
        """Queue ``reading``, whose audio is heard ``heard_in_s`` from now (None: not known);
        publish what is due."""
        line = self._line_for(self._plan())
        now = self._hass.loop.time()
        audio_at = None if heard_in_s is None else now + min(heard_in_s, MAX_HEARD_AHEAD_S)
        for due in line.push(reading, now, audio_at=audio_at):
            self._publish(due)
        self._schedule(now)

    @callback
    def _line_for(self, plan: DelayPlan) -> DelayLine[MoodReading]:
        """The line for ``plan``; a new plan (another source) publishes what the old one held."""
        if self._line is not None and plan == self._line_plan:
            return self._line
        if self._line is not None:
            for held in self._line.clear():
                self._publish(held)
        self._line_plan = plan
        self._line = DelayLine.for_plan(plan, self._hop_s(), lead_s=MAX_HEARD_AHEAD_S)
        return self._line

    @callback
    def _schedule(self, now: float) -> None:
        line = self._line
        wait_s = None if line is None else line.next_due_in(now)
        if wait_s is None or (
            self._cancel_timer is not None and self._timer_due_at <= now + wait_s
        ):
            return
        if self._cancel_timer is not None:
            self._cancel_timer()
        self._timer_due_at = now + wait_s
        self._cancel_timer = async_call_later(self._hass, wait_s, self._release)

    @callback
    def _release(self, _now: datetime) -> None:
        # Released by the time the timer was set for, not the clock's reading: the queue's clock
        # and the timer's agree on that, whatever a test's frozen clock says.
        due_at, self._cancel_timer = self._timer_due_at, None
        assert self._line is not None
        for reading in self._line.pop_due(due_at):
            self._publish(reading)
        self._schedule(due_at)

    @callback
    def cancel(self) -> None:
        if self._cancel_timer is not None:
            self._cancel_timer()
            self._cancel_timer = None
        if self._line is not None:
            self._line.clear()
