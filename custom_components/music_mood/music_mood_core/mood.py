"""From raw model outputs to a steady mood: smoothing, silence detection and quadrant labels.

Everything here advances on *audio* time (the hop between predictions), never on wall-clock time, so
the same audio always gives the same readings, live or offline.

The quadrant label has hysteresis: near an axis the smoothed point wobbles across it with every
hop, and a label that followed every wobble would flap between two moods during a steady passage.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

MOOD_HAPPY: Final = "happy"
MOOD_TENSE: Final = "tense"
MOOD_SAD: Final = "sad"
MOOD_CALM: Final = "calm"
MOOD_NONE: Final = "none"
MOODS: Final = (MOOD_HAPPY, MOOD_TENSE, MOOD_SAD, MOOD_CALM, MOOD_NONE)

# A side of an axis changes only once the value is this far past zero on the other side...
DEFAULT_DEAD_BAND: Final = 0.1
# ... and has stayed there for this much audio.
DEFAULT_DWELL_S: Final = 1.0


def quadrant(valence: float, arousal: float) -> str:
    """Russell's circumplex quadrant of (valence, arousal); points on an axis count as positive."""
    if valence >= 0.0:
        return MOOD_HAPPY if arousal >= 0.0 else MOOD_CALM
    return MOOD_TENSE if arousal >= 0.0 else MOOD_SAD


def _quadrant_of_sides(positive_valence: bool, positive_arousal: bool) -> str:
    if positive_valence:
        return MOOD_HAPPY if positive_arousal else MOOD_CALM
    return MOOD_TENSE if positive_arousal else MOOD_SAD


def _side_after(positive: bool, value: float, dead_band: float) -> bool:
    """Schmitt trigger on one axis: the side flips only past ``dead_band`` on the other side."""
    if positive:
        return not value < -dead_band
    return value >= dead_band


class QuadrantHysteresis:
    """The quadrant label of a moving point, changed only past a dead band and after a dwell.

    Each axis keeps its side until the value is more than ``dead_band`` across zero; the quadrant
    those sides name must then persist for ``dwell_s`` of audio before the label follows. With a
    dead band and dwell of zero this is exactly :func:`quadrant`.
    """

    def __init__(
        self, dead_band: float = DEFAULT_DEAD_BAND, dwell_s: float = DEFAULT_DWELL_S
    ) -> None:
        if not 0.0 <= dead_band < 1.0:
            raise ValueError("dead band must be within [0, 1)")
        if dwell_s < 0.0:
            raise ValueError("dwell must not be negative")
        self._dead_band = dead_band
        self._dwell_s = dwell_s
        self._sides: tuple[bool, bool] | None = None
        self._pending_sides: tuple[bool, bool] | None = None
        self._pending_for_s = 0.0

    @property
    def mood(self) -> str | None:
        """The current label; None before the first point."""
        return None if self._sides is None else _quadrant_of_sides(*self._sides)

    def update(self, valence: float, arousal: float, elapsed_s: float) -> str:
        if self._sides is None:
            # The first point has no history to hold against: it is labelled as it lies.
            self._sides = (valence >= 0.0, arousal >= 0.0)
            return _quadrant_of_sides(*self._sides)
        candidate = (
            _side_after(self._sides[0], valence, self._dead_band),
            _side_after(self._sides[1], arousal, self._dead_band),
        )
        if candidate == self._sides:
            self._pending_sides = None
            self._pending_for_s = 0.0
        else:
            if candidate != self._pending_sides:
                self._pending_sides = candidate
                self._pending_for_s = 0.0
            self._pending_for_s += max(elapsed_s, 0.0)
            if self._pending_for_s >= self._dwell_s:
                self._sides = candidate
                self._pending_sides = None
                self._pending_for_s = 0.0
        return _quadrant_of_sides(*self._sides)


class ExponentialSmoother:
    """First-order low-pass filter with a time constant, exact for any step length.

    A time constant of zero passes values through unchanged. The first value initialises the
    state, so a freshly started analyser does not crawl up from zero.
    """

    def __init__(self, time_constant_s: float) -> None:
        if time_constant_s < 0.0:
            raise ValueError("time constant must not be negative")
        self._time_constant_s = time_constant_s
        self._value: float | None = None

    @property
    def value(self) -> float | None:
        return self._value

    def update(self, sample: float, elapsed_s: float) -> float:
        if self._value is None or self._time_constant_s == 0.0:
            self._value = sample
        else:
            weight = 1.0 - math.exp(-max(elapsed_s, 0.0) / self._time_constant_s)
            self._value += weight * (sample - self._value)
        return self._value


class SilenceDetector:
    """Whether music plays: silent only once the level stayed below a threshold long enough.

    Music counts as back as soon as one hop is loud enough: a quiet intro should not cost seconds
    of mood.
    """

    def __init__(self, threshold_dbfs: float, hold_s: float) -> None:
        self._threshold_dbfs = threshold_dbfs
        self._hold_s = max(hold_s, 0.0)
        self._quiet_for_s = 0.0
        self._playing = False

    @property
    def playing(self) -> bool:
        return self._playing

    def is_loud(self, level: float) -> bool:
        return level >= self._threshold_dbfs

    def update(self, level: float, elapsed_s: float) -> bool:
        if self.is_loud(level):
            self._quiet_for_s = 0.0
            self._playing = True
        else:
            self._quiet_for_s += max(elapsed_s, 0.0)
            if self._quiet_for_s >= self._hold_s:
                self._playing = False
        return self._playing


@dataclass(frozen=True, slots=True)
class MoodState:
    """One step of the tracker: smoothed and raw coordinates, the label and whether music plays."""

    valence: float
    arousal: float
    raw_valence: float
    raw_arousal: float
    mood: str
    playing: bool
    level_dbfs: float


class MoodTracker:
    """Smooths predictions while music plays; holds the last mood through quiet parts and silence.

    Quiet hops never reach the smoother: the model's output on near-silence is noise, and letting
    it in would make the mood drift exactly when there is nothing to hear. The label follows the
    smoothed point through :class:`QuadrantHysteresis`.
    """

    def __init__(
        self,
        smoothing_s: float,
        silence_threshold_dbfs: float,
        silence_duration_s: float,
        dead_band: float = DEFAULT_DEAD_BAND,
        dwell_s: float = DEFAULT_DWELL_S,
    ) -> None:
        self._valence = ExponentialSmoother(smoothing_s)
        self._arousal = ExponentialSmoother(smoothing_s)
        self._silence = SilenceDetector(silence_threshold_dbfs, silence_duration_s)
        self._label = QuadrantHysteresis(dead_band, dwell_s)

    def update(
        self, raw_valence: float, raw_arousal: float, level: float, elapsed_s: float
    ) -> MoodState:
        playing = self._silence.update(level, elapsed_s)
        if self._silence.is_loud(level):
            valence = self._valence.update(raw_valence, elapsed_s)
            arousal = self._arousal.update(raw_arousal, elapsed_s)
            self._label.update(valence, arousal, elapsed_s)
        else:
            valence = self._held(self._valence)
            arousal = self._held(self._arousal)
        label = self._label.mood
        mood = label if playing and label is not None else MOOD_NONE
        return MoodState(
            valence=valence,
            arousal=arousal,
            raw_valence=raw_valence,
            raw_arousal=raw_arousal,
            mood=mood,
            playing=playing,
            level_dbfs=level,
        )

    @staticmethod
    def _held(smoother: ExponentialSmoother) -> float:
        # Before any music was heard there is nothing to hold: report the neutral centre.
        return 0.0 if smoother.value is None else smoother.value
