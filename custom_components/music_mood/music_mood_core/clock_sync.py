"""The server's clock on ours: NTP-style offset estimates from Sendspin's time messages.

A Sendspin server stamps every audio chunk with the moment, on its own clock, at which the chunk is
heard. To act when the speakers play, a player needs that moment on its own clock. Each
``client/time`` -> ``server/time`` round trip gives an estimate of the offset between the clocks,
accurate to half the round trip's network time; the estimate from the fastest recent round trip is
the most accurate one, and keeping only recent ones follows the small rate difference between two
machines' clocks.
"""

from __future__ import annotations

from collections import deque
from typing import Final

from .sendspin_wire import TimeSample

RECENT_SAMPLES: Final = 12


class ClockSync:
    """Offset between the server's clock and the local one, from the fastest recent round trip."""

    __slots__ = ("_samples",)

    def __init__(self) -> None:
        # (round-trip network time, offset) pairs, all µs.
        self._samples: deque[tuple[int, float]] = deque(maxlen=RECENT_SAMPLES)

    @property
    def synchronised(self) -> bool:
        return bool(self._samples)

    @property
    def uncertainty_us(self) -> float | None:
        """Half the best round trip's network time: the offset's worst-case error."""
        return min(rtt for rtt, _ in self._samples) / 2.0 if self._samples else None

    def add(self, sample: TimeSample) -> None:
        """One round trip; one that took negative time (clocks misread) is ignored."""
        network_us = (sample.client_received - sample.client_transmitted) - (
            sample.server_transmitted - sample.server_received
        )
        if network_us < 0:
            return
        offset = (
            (sample.server_received - sample.client_transmitted)
            + (sample.server_transmitted - sample.client_received)
        ) / 2.0
        self._samples.append((network_us, offset))

    def to_local_us(self, server_us: int) -> float:
        """A server time on the local clock; ValueError before the first round trip."""
        if not self._samples:
            raise ValueError("the clocks are not synchronised yet")
        _, offset = min(self._samples)
        return server_us - offset
