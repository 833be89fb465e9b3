"""Capped exponential back-off between retries (an ffmpeg restart, a serial strip reconnect).

The class only computes delays; the caller sleeps or schedules. Keeping the clock out makes the
sequence a pure function of the calls, and lets Home Assistant code wait with its own scheduler.
"""

from __future__ import annotations


class Backoff:
    """Delays that double from ``initial_s`` up to ``maximum_s``; ``reset`` after a success."""

    __slots__ = ("_initial_s", "_maximum_s", "_next_s")

    def __init__(self, initial_s: float, maximum_s: float) -> None:
        if not initial_s > 0.0:
            raise ValueError(f"initial_s must be positive (got {initial_s})")
        if not maximum_s >= initial_s:
            raise ValueError(f"maximum_s must be at least initial_s ({initial_s}), got {maximum_s}")
        self._initial_s = float(initial_s)
        self._maximum_s = float(maximum_s)
        self._next_s = self._initial_s

    @property
    def initial_s(self) -> float:
        return self._initial_s

    @property
    def maximum_s(self) -> float:
        return self._maximum_s

    def next_delay(self) -> float:
        """The delay before the next attempt; each call doubles the following one, up to the cap."""
        delay = self._next_s
        self._next_s = min(self._maximum_s, self._next_s * 2.0)
        return delay

    def reset(self) -> None:
        """The last attempt succeeded: the next failure waits ``initial_s`` again."""
        self._next_s = self._initial_s
