"""A test double of the analyser as a `MoodSource` (readings chosen by the test) and a hop clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from custom_components.music_mood.music_mood_core.mood import MOOD_NONE, quadrant

HOP_S = 0.5


@dataclass(frozen=True)
class Reading:
    valence: float
    arousal: float
    playing: bool = True
    # The mood label; by default the plain quadrant (the tracker's dead band is tested in core).
    mood: str = ""

    def __post_init__(self) -> None:
        if not self.mood:
            label = quadrant(self.valence, self.arousal) if self.playing else MOOD_NONE
            object.__setattr__(self, "mood", label)


class FakeMoodSource:
    """Implements the `MoodSource` protocol; the test pushes readings into it."""

    def __init__(self) -> None:
        self.data: Reading | None = None
        self.available = True
        self.hop_seconds = HOP_S
        self.listeners: list[Callable[[], None]] = []

    def async_add_listener(self, update_callback: Callable[[], None]) -> Callable[[], None]:
        self.listeners.append(update_callback)
        return lambda: self.listeners.remove(update_callback)

    def push(self, reading: Reading | None) -> None:
        self.data = reading
        for listener in list(self.listeners):
            listener()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def next_hop(self) -> None:
        self.now += HOP_S
