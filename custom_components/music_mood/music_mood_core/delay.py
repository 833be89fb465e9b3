"""Shifting readings against the audio, so lights change when the speakers play.

Some sources run ahead of what the room hears (a Music Assistant group stream or a Snapcast server
is read before its clients' buffers play it): a positive delay holds each reading back that many
seconds. Others run behind (the reading describes the last excerpt, so it trails the music it
describes): a negative delay publishes earlier, which is only possible where the audio can be read
before it plays.

- Paced sources (files, http streams, a raw-PCM regular file) are read no faster than they play;
  a negative delay lets the reader run that many seconds ahead (a larger head start for the pacer).
- Sources that know when each sample plays (a Sendspin stream's timestamps) receive audio before
  it is heard: a negative delay advances each reading against its play time. A reading is released
  at ``max(now, play time + delay)``, so never before it exists and never out of order; a reading
  that arrives too late for the full advance is counted (``DelayLine.lateness``), not hidden.
- Live sources (FIFOs, UDP, capture devices) deliver audio when it exists: nothing can be read
  before it arrives, so a negative delay cannot be honoured there; it is clamped to 0 and the
  unreachable part is reported. (For Snapcast the analyser's own snapclient can play ahead of the
  others with ``snapclient --latency <ms>``, up to the server's buffer.)
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Final, Generic, TypeVar

MIN_DELAY_S: Final = -2.0
MAX_DELAY_S: Final = 5.0
DEFAULT_DELAY_S: Final = 0.0
# Queue room beyond what the delay needs at the nominal hop: a burst of readings (a source catching
# up after a stall) releases the oldest early instead of growing the queue.
_SPARE_ITEMS: Final = 4

_Item = TypeVar("_Item")


class DelayError(ValueError):
    """A delay outside the accepted range; the message gives the range."""


def validate_delay_s(value: object) -> float:
    """The delay in seconds if it is a finite number in [MIN_DELAY_S, MAX_DELAY_S]."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise DelayError(f"the delay must be a number of seconds (got {value!r})")
    if not MIN_DELAY_S <= value <= MAX_DELAY_S:
        raise DelayError(
            f"the delay must be from {MIN_DELAY_S:g} to {MAX_DELAY_S:g} s (got {value:g} s)"
        )
    return float(value)


@dataclass(frozen=True, slots=True)
class DelayPlan:
    """How one source honours a delay: hold readings back, read ahead, advance, or neither."""

    hold_s: float
    read_ahead_s: float
    # Readings released this long before their audio's play time (sources that know it).
    advance_s: float
    # Part of a negative delay this source cannot give (live sources): reported, not applied.
    unreachable_s: float

    def read_ahead_samples(self, sample_rate: int) -> int:
        """Extra head start for a native-rate pacer, in samples."""
        return round(self.read_ahead_s * sample_rate)


def plan_delay(delay_s: float, *, paced: bool, knows_play_time: bool = False) -> DelayPlan:
    """The plan for ``delay_s`` on a paced (file, http) or a live (FIFO, UDP, capture) source;
    ``knows_play_time``: the source's audio carries when it plays (a Sendspin stream)."""
    delay_s = validate_delay_s(delay_s)
    if delay_s >= 0:
        return DelayPlan(hold_s=delay_s, read_ahead_s=0.0, advance_s=0.0, unreachable_s=0.0)
    if knows_play_time:
        return DelayPlan(hold_s=0.0, read_ahead_s=0.0, advance_s=-delay_s, unreachable_s=0.0)
    if paced:
        return DelayPlan(hold_s=0.0, read_ahead_s=-delay_s, advance_s=0.0, unreachable_s=0.0)
    return DelayPlan(hold_s=0.0, read_ahead_s=0.0, advance_s=0.0, unreachable_s=-delay_s)


@dataclass(frozen=True, slots=True)
class Lateness:
    """Readings that came too late to be released when their plan said (play time + delay)."""

    late_readings: int = 0
    # How late the last of them was, in seconds; None while none was.
    last_late_s: float | None = None


class DelayLine(Generic[_Item]):
    """Holds items for ``hold_s`` seconds of a caller-supplied clock; at most ``max_items``.

    Pure: the caller says what time it is (``now``, seconds on a monotonic clock) and arranges to
    call :meth:`pop_due` again after :meth:`next_due_in` seconds.
    """

    def __init__(
        self, hold_s: float, hop_s: float, *, lead_s: float = 0.0, advance_s: float = 0.0
    ) -> None:
        """``lead_s``: how far ahead of ``now`` an item's ``audio_at`` may lie (room is kept);
        ``advance_s``: items with an ``audio_at`` are due that long before it (not before now)."""
        if not 0 <= hold_s <= MAX_DELAY_S:
            raise DelayError(f"hold_s must be from 0 to {MAX_DELAY_S:g} s (got {hold_s!r})")
        if not 0 <= advance_s <= -MIN_DELAY_S:
            raise DelayError(f"advance_s must be from 0 to {-MIN_DELAY_S:g} s (got {advance_s!r})")
        if not hop_s > 0:
            raise ValueError(f"hop_s must be positive (got {hop_s!r})")
        if not 0 <= lead_s < math.inf:
            raise ValueError(f"lead_s must be a finite number of seconds >= 0 (got {lead_s!r})")
        self.hold_s = float(hold_s)
        self.advance_s = float(advance_s)
        self.max_items = math.ceil((hold_s + lead_s) / hop_s) + _SPARE_ITEMS
        self._queue: deque[tuple[float, _Item]] = deque()
        self.released_early = 0
        self.lateness = Lateness()

    @classmethod
    def for_plan(cls, plan: DelayPlan, hop_s: float, *, lead_s: float = 0.0) -> DelayLine[_Item]:
        """The line that applies ``plan``'s hold and advance (reading ahead is the reader's)."""
        return cls(plan.hold_s, hop_s, lead_s=lead_s, advance_s=plan.advance_s)

    def __len__(self) -> int:
        return len(self._queue)

    def push(self, item: _Item, now: float, *, audio_at: float | None = None) -> list[_Item]:
        """Queue ``item``; returns what is due now (the item itself when nothing is held).

        ``audio_at``: when the audio the item describes plays, on the same clock, for sources that
        know it (a Sendspin stream's play time); the item is due ``hold_s`` after that, or
        ``advance_s`` before it, but not before ``now`` (a shortfall is counted in ``lateness``).
        Without it the item is due ``hold_s`` after ``now``. A full queue releases its oldest item
        early: every reading is still published, in order, and memory stays bounded whatever the
        rate.
        """
        due_at = self._due_at(now, audio_at)
        if self._queue and due_at < self._queue[-1][0]:
            due_at = self._queue[-1][0]  # never overtake an earlier reading
        self._queue.append((due_at, item))
        due = self.pop_due(now)
        while len(self._queue) > self.max_items:
            due.append(self._queue.popleft()[1])
            self.released_early += 1
        return due

    def _due_at(self, now: float, audio_at: float | None) -> float:
        if audio_at is None:
            return now + self.hold_s
        planned_at = audio_at + self.hold_s - self.advance_s
        if planned_at < now:
            self.lateness = Lateness(self.lateness.late_readings + 1, now - planned_at)
            return now
        return planned_at

    def pop_due(self, now: float) -> list[_Item]:
        due: list[_Item] = []
        while self._queue and self._queue[0][0] <= now:
            due.append(self._queue.popleft()[1])
        return due

    def next_due_in(self, now: float) -> float | None:
        """Seconds until the oldest held item is due (0 if it already is); None when empty."""
        if not self._queue:
            return None
        return max(0.0, self._queue[0][0] - now)

    def clear(self) -> list[_Item]:
        """Empty the queue (the stream restarted); returns what was held, oldest first."""
        held = [item for _due, item in self._queue]
        self._queue.clear()
        return held
