"""Valence/arousal -> light colour and brightness, and when a change is worth sending.

Pure functions of the mood (both axes in [-1, 1]); nothing here knows lights or Home Assistant.

Two mappings:

* ``circumplex``: a colour wheel laid over Russell's circumplex. The angle of (valence, arousal)
  picks the hue, interpolated between four anchors (one per quadrant corner); the distance from
  the centre picks the saturation. Hue is piecewise linear in angle and turns monotonically once
  round the circle, so neighbouring moods get neighbouring colours.
* ``four_corner``: the user names a colour for each quadrant corner; everything between is bilinear
  interpolation in RGB.

Brightness follows arousal only: calm music dims the room, energetic music lights it up.
"""

from __future__ import annotations

import colorsys
import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

RGB = tuple[int, int, int]

PRESET_CIRCUMPLEX: Final = "circumplex"
PRESET_FOUR_CORNER: Final = "four_corner"
PRESETS: Final = (PRESET_CIRCUMPLEX, PRESET_FOUR_CORNER)

CORNER_POSITIVE_ENERGETIC: Final = "positive_energetic"
CORNER_NEGATIVE_ENERGETIC: Final = "negative_energetic"
CORNER_NEGATIVE_CALM: Final = "negative_calm"
CORNER_POSITIVE_CALM: Final = "positive_calm"
CORNERS: Final = (
    CORNER_POSITIVE_ENERGETIC,
    CORNER_NEGATIVE_ENERGETIC,
    CORNER_NEGATIVE_CALM,
    CORNER_POSITIVE_CALM,
)

# Hues (degrees) of the circumplex wheel's four corners. Chosen so their RGB is exact integers:
# happy/excited: warm yellow-orange, angry/tense: red, sad/depressed: blue, relaxed/content: green.
CIRCUMPLEX_CORNER_HUES: Final[Mapping[str, float]] = {
    CORNER_POSITIVE_ENERGETIC: 40.0,
    CORNER_NEGATIVE_ENERGETIC: 0.0,
    CORNER_NEGATIVE_CALM: 240.0,
    CORNER_POSITIVE_CALM: 120.0,
}

# The same corners as RGB: the default of the user-defined four-corner mapping.
DEFAULT_CORNER_COLOURS: Final[Mapping[str, RGB]] = {
    CORNER_POSITIVE_ENERGETIC: (255, 170, 0),
    CORNER_NEGATIVE_ENERGETIC: (255, 0, 0),
    CORNER_NEGATIVE_CALM: (0, 0, 255),
    CORNER_POSITIVE_CALM: (0, 255, 0),
}

DEFAULT_SATURATION_FLOOR: Final = 0.35
DEFAULT_MIN_BRIGHTNESS: Final = 40
DEFAULT_MAX_BRIGHTNESS: Final = 255
DEFAULT_MIN_DELTA_E: Final = 4.0
DEFAULT_MIN_BRIGHTNESS_DELTA: Final = 8
# A change at least this large is a new mood, not a drift: it is sent at the next reading. Orange to
# red is ΔE 64; near the neutral centre a smoothed mood wobbling by a few hundredths swings the hue
# by up to ΔE ≈ 55 (the dead-banded mood label holds meanwhile), which must stay a drift.
DEFAULT_IMMEDIATE_DELTA_E: Final = 60.0
DEFAULT_IMMEDIATE_BRIGHTNESS_DELTA: Final = 40
# Smaller, merely visible drifts reach a light at most this often.
DEFAULT_DRIFT_INTERVAL_S: Final = 5.0

# Within this distance of the neutral centre the saturation floor fades in linearly. Without it the
# floor would put a fully defined hue right next to the centre, and a tiny step across the centre
# would jump from one side of the wheel to the other.
NEUTRAL_RADIUS: Final = 0.1

# Angles (degrees, atan2(arousal, valence)) of the quadrant corners, walked counter-clockwise, with
# the hue at each written unwrapped so the hue turns one way only (40 -> 0 -> -120 -> -240 -> -320).
_ANCHOR_ANGLES: Final = (45.0, 135.0, 225.0, 315.0, 405.0)
_ANCHOR_CORNERS: Final = (
    CORNER_POSITIVE_ENERGETIC,
    CORNER_NEGATIVE_ENERGETIC,
    CORNER_NEGATIVE_CALM,
    CORNER_POSITIVE_CALM,
    CORNER_POSITIVE_ENERGETIC,
)


def _unwrap_anchor_hues() -> tuple[float, ...]:
    hues = [CIRCUMPLEX_CORNER_HUES[_ANCHOR_CORNERS[0]]]
    for corner in _ANCHOR_CORNERS[1:]:
        # Always step downwards (by less than a full turn) so the walk never doubles back.
        hues.append(hues[-1] + (CIRCUMPLEX_CORNER_HUES[corner] - hues[-1]) % 360.0 - 360.0)
    return tuple(hues)


_UNWRAPPED_ANCHOR_HUES: Final = _unwrap_anchor_hues()


@dataclass(frozen=True, slots=True)
class MoodColour:
    """What a light should show: an RGB colour and a brightness, all 0..255."""

    rgb: RGB
    brightness: int


@dataclass(frozen=True, slots=True)
class ColourSettings:
    """How the mood is turned into a colour; built once from the user's options."""

    preset: str = PRESET_CIRCUMPLEX
    corner_colours: Mapping[str, RGB] | None = None
    saturation_floor: float = DEFAULT_SATURATION_FLOOR
    min_brightness: int = DEFAULT_MIN_BRIGHTNESS
    max_brightness: int = DEFAULT_MAX_BRIGHTNESS

    def __post_init__(self) -> None:
        if self.preset not in PRESETS:
            raise ValueError(f"unknown colour preset {self.preset!r}")
        if not 0.0 <= self.saturation_floor <= 1.0:
            raise ValueError("saturation_floor must be within [0, 1]")
        if not 0 <= self.min_brightness <= self.max_brightness <= 255:
            raise ValueError("need 0 <= min_brightness <= max_brightness <= 255")
        if self.corner_colours is not None:
            missing = set(CORNERS) - set(self.corner_colours)
            if missing:
                raise ValueError(f"corner colours missing: {sorted(missing)}")


def _clamp_unit(value: float) -> float:
    if math.isnan(value):
        return 0.0
    return max(-1.0, min(1.0, value))


def _to_byte(channel: float) -> int:
    return max(0, min(255, round(channel * 255.0)))


def circumplex_hue(valence: float, arousal: float) -> float:
    """Hue in degrees [0, 360) for the direction of (valence, arousal); 0 at the exact centre."""
    valence, arousal = _clamp_unit(valence), _clamp_unit(arousal)
    if valence == 0.0 and arousal == 0.0:
        return 0.0
    angle = math.degrees(math.atan2(arousal, valence))
    # Shift into [45, 405) so the walk over the anchors starts at the positive/energetic corner.
    while angle < _ANCHOR_ANGLES[0]:
        angle += 360.0
    unwrapped = _UNWRAPPED_ANCHOR_HUES
    for index in range(len(_ANCHOR_ANGLES) - 1):
        start, end = _ANCHOR_ANGLES[index], _ANCHOR_ANGLES[index + 1]
        if start <= angle <= end:
            fraction = (angle - start) / (end - start)
            hue = unwrapped[index] + fraction * (unwrapped[index + 1] - unwrapped[index])
            return hue % 360.0
    raise AssertionError("angle outside the anchor range")  # pragma: no cover


def circumplex_saturation(valence: float, arousal: float, floor: float) -> float:
    """Saturation in [0, 1]: grows with distance from neutral, at least ``floor`` away from it."""
    radius = min(1.0, math.hypot(_clamp_unit(valence), _clamp_unit(arousal)))
    floor_weight = min(1.0, radius / NEUTRAL_RADIUS)
    return floor * floor_weight + (1.0 - floor) * radius


def circumplex_rgb(valence: float, arousal: float, saturation_floor: float) -> RGB:
    """The wheel's colour at full value (brightness is applied separately by the light)."""
    hue = circumplex_hue(valence, arousal)
    saturation = circumplex_saturation(valence, arousal, saturation_floor)
    red, green, blue = colorsys.hsv_to_rgb(hue / 360.0, saturation, 1.0)
    return (_to_byte(red), _to_byte(green), _to_byte(blue))


def four_corner_rgb(valence: float, arousal: float, corners: Mapping[str, RGB]) -> RGB:
    """Bilinear interpolation between the four corner colours; corners come back exactly."""
    right = (_clamp_unit(valence) + 1.0) / 2.0
    top = (_clamp_unit(arousal) + 1.0) / 2.0
    weights = {
        CORNER_NEGATIVE_CALM: (1.0 - right) * (1.0 - top),
        CORNER_POSITIVE_CALM: right * (1.0 - top),
        CORNER_NEGATIVE_ENERGETIC: (1.0 - right) * top,
        CORNER_POSITIVE_ENERGETIC: right * top,
    }
    channels = [
        sum(weight * corners[corner][channel] for corner, weight in weights.items())
        for channel in range(3)
    ]
    return (
        max(0, min(255, round(channels[0]))),
        max(0, min(255, round(channels[1]))),
        max(0, min(255, round(channels[2]))),
    )


def arousal_brightness(arousal: float, min_brightness: int, max_brightness: int) -> int:
    """Linear in arousal: -1 gives ``min_brightness``, +1 gives ``max_brightness``."""
    fraction = (_clamp_unit(arousal) + 1.0) / 2.0
    return round(min_brightness + fraction * (max_brightness - min_brightness))


def mood_colour(valence: float, arousal: float, settings: ColourSettings) -> MoodColour:
    """The colour and brightness for one mood reading."""
    if settings.preset == PRESET_FOUR_CORNER:
        rgb = four_corner_rgb(valence, arousal, settings.corner_colours or DEFAULT_CORNER_COLOURS)
    else:
        rgb = circumplex_rgb(valence, arousal, settings.saturation_floor)
    brightness = arousal_brightness(arousal, settings.min_brightness, settings.max_brightness)
    return MoodColour(rgb=rgb, brightness=brightness)


def colour_temperature_kelvin(
    valence: float, arousal: float, warmest_kelvin: int, coolest_kelvin: int
) -> int:
    """For white-only lights: calm/negative moods warm, energetic/positive moods cool."""
    fraction = ((_clamp_unit(valence) + _clamp_unit(arousal)) / 2.0 + 1.0) / 2.0
    return round(warmest_kelvin + fraction * (coolest_kelvin - warmest_kelvin))


# --- perceptual distance -------------------------------------------------------------------------

_D65_WHITE: Final = (0.95047, 1.0, 1.08883)


def _srgb_to_linear(channel: int) -> float:
    value = channel / 255.0
    if value <= 0.04045:
        return value / 12.92
    return float(((value + 0.055) / 1.055) ** 2.4)


def _lab_f(ratio: float) -> float:
    if ratio > (6.0 / 29.0) ** 3:
        return float(ratio ** (1.0 / 3.0))
    return ratio / (3.0 * (6.0 / 29.0) ** 2) + 4.0 / 29.0


def rgb_to_lab(rgb: RGB) -> tuple[float, float, float]:
    """CIE L*a*b* (D65) of an sRGB colour."""
    red, green, blue = (_srgb_to_linear(channel) for channel in rgb)
    x = 0.4124564 * red + 0.3575761 * green + 0.1804375 * blue
    y = 0.2126729 * red + 0.7151522 * green + 0.0721750 * blue
    z = 0.0193339 * red + 0.1191920 * green + 0.9503041 * blue
    fx, fy, fz = (_lab_f(value / white) for value, white in zip((x, y, z), _D65_WHITE, strict=True))
    return (116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz))


def delta_e(first: RGB, second: RGB) -> float:
    """CIE76 colour difference: about 2.3 is the smallest difference people notice."""
    lab_first, lab_second = rgb_to_lab(first), rgb_to_lab(second)
    return math.dist(lab_first, lab_second)


class ColourChange(enum.Enum):
    """How a new colour differs from the one a light shows."""

    NONE = "none"  # nobody would see it
    DRIFT = "drift"  # visible, but the smoothed mood is only wandering
    MOOD = "mood"  # a new mood: large colour or brightness step, or another quadrant


@dataclass(frozen=True, slots=True)
class ColourHysteresis:
    """Sorts a new colour into no change, a drift or a new mood, against the last one sent.

    Lights are slow, radio links are slower, and smoothed moods drift by tiny steps: without this
    every hop would send a command nobody can see.
    """

    min_delta_e: float = DEFAULT_MIN_DELTA_E
    min_brightness_delta: int = DEFAULT_MIN_BRIGHTNESS_DELTA
    immediate_delta_e: float = DEFAULT_IMMEDIATE_DELTA_E
    immediate_brightness_delta: int = DEFAULT_IMMEDIATE_BRIGHTNESS_DELTA

    def classify(self, previous: MoodColour, new: MoodColour) -> ColourChange:
        brightness_step = abs(new.brightness - previous.brightness)
        colour_step = delta_e(previous.rgb, new.rgb)
        if (
            colour_step >= self.immediate_delta_e
            or brightness_step >= self.immediate_brightness_delta
        ):
            return ColourChange.MOOD
        if colour_step >= self.min_delta_e or brightness_step >= self.min_brightness_delta:
            return ColourChange.DRIFT
        return ColourChange.NONE

    def should_update(self, previous: MoodColour | None, new: MoodColour) -> bool:
        """Whether the change is visible at all (drift or new mood)."""
        return previous is None or self.classify(previous, new) is not ColourChange.NONE


@dataclass(frozen=True, slots=True)
class UpdatePacing:
    """When a light gets a new colour: a new mood at once, a drift at most every few seconds.

    ``min_gap_s`` bounds every command (one per reading); ``drift_interval_s`` bounds drifts, so a
    slowly wandering mood costs one command per light every few seconds instead of two a second,
    while a change of quadrant or a large step shows at the next reading.
    """

    hysteresis: ColourHysteresis = field(default_factory=ColourHysteresis)
    drift_interval_s: float = DEFAULT_DRIFT_INTERVAL_S

    def __post_init__(self) -> None:
        if self.drift_interval_s < 0.0:
            raise ValueError("drift_interval_s must not be negative")

    def decide(
        self,
        previous: MoodColour | None,
        new: MoodColour,
        *,
        mood_changed: bool,
        seconds_since_last: float | None,
        min_gap_s: float,
    ) -> ColourChange:
        """What to send now: NONE (nothing), or the kind of change being sent."""
        if previous is None or seconds_since_last is None:
            return ColourChange.MOOD
        change = self.hysteresis.classify(previous, new)
        if change is ColourChange.DRIFT and mood_changed:
            change = ColourChange.MOOD
        if change is ColourChange.NONE or seconds_since_last < min_gap_s:
            return ColourChange.NONE
        if change is ColourChange.DRIFT and seconds_since_last < self.drift_interval_s:
            return ColourChange.NONE
        return change
