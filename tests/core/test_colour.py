"""Valence/arousal -> colour: ranges, exact corners, continuity and hysteresis."""

from __future__ import annotations

import itertools
import math
import random

import pytest
from music_mood_core.colour import (
    CORNER_NEGATIVE_CALM,
    CORNER_NEGATIVE_ENERGETIC,
    CORNER_POSITIVE_CALM,
    CORNER_POSITIVE_ENERGETIC,
    DEFAULT_CORNER_COLOURS,
    PRESET_CIRCUMPLEX,
    PRESET_FOUR_CORNER,
    ColourHysteresis,
    ColourSettings,
    MoodColour,
    circumplex_hue,
    colour_temperature_kelvin,
    delta_e,
    mood_colour,
)

USER_CORNERS = {
    CORNER_POSITIVE_ENERGETIC: (250, 200, 10),
    CORNER_NEGATIVE_ENERGETIC: (200, 20, 60),
    CORNER_NEGATIVE_CALM: (30, 40, 180),
    CORNER_POSITIVE_CALM: (20, 160, 90),
}
SETTINGS = [
    ColourSettings(),
    ColourSettings(preset=PRESET_CIRCUMPLEX, saturation_floor=0.0),
    ColourSettings(preset=PRESET_CIRCUMPLEX, saturation_floor=1.0, min_brightness=0),
    ColourSettings(preset=PRESET_FOUR_CORNER, corner_colours=USER_CORNERS, min_brightness=100),
    ColourSettings(preset=PRESET_FOUR_CORNER),
]
GRID = [i / 20.0 for i in range(-20, 21)]


@pytest.mark.parametrize("settings", SETTINGS)
def test_every_output_is_a_valid_colour_within_the_brightness_range(
    settings: ColourSettings,
) -> None:
    for valence, arousal in itertools.product([*GRID, -3.0, 7.5, math.nan], repeat=2):
        colour = mood_colour(valence, arousal, settings)
        assert all(isinstance(c, int) and 0 <= c <= 255 for c in colour.rgb)
        assert settings.min_brightness <= colour.brightness <= settings.max_brightness


def test_circumplex_corners_are_the_named_colours() -> None:
    settings = ColourSettings(preset=PRESET_CIRCUMPLEX)
    assert mood_colour(1, 1, settings).rgb == (255, 170, 0)  # happy: warm yellow-orange
    assert mood_colour(-1, 1, settings).rgb == (255, 0, 0)  # angry: red
    assert mood_colour(-1, -1, settings).rgb == (0, 0, 255)  # sad: blue
    assert mood_colour(1, -1, settings).rgb == (0, 255, 0)  # relaxed: green


def test_four_corner_preset_returns_user_corners_exactly_and_blends_between() -> None:
    settings = ColourSettings(preset=PRESET_FOUR_CORNER, corner_colours=USER_CORNERS)
    assert mood_colour(1, 1, settings).rgb == USER_CORNERS[CORNER_POSITIVE_ENERGETIC]
    assert mood_colour(-1, 1, settings).rgb == USER_CORNERS[CORNER_NEGATIVE_ENERGETIC]
    assert mood_colour(-1, -1, settings).rgb == USER_CORNERS[CORNER_NEGATIVE_CALM]
    assert mood_colour(1, -1, settings).rgb == USER_CORNERS[CORNER_POSITIVE_CALM]
    # Centre = mean of the four corners; middle of the top edge = mean of the two top corners.
    assert mood_colour(0, 0, settings).rgb == (125, 105, 85)
    assert mood_colour(0, 1, settings).rgb == (225, 110, 35)
    # Without user colours the four-corner preset uses the wheel's corner colours.
    assert (
        mood_colour(-1, -1, ColourSettings(preset=PRESET_FOUR_CORNER)).rgb
        == (DEFAULT_CORNER_COLOURS[CORNER_NEGATIVE_CALM])
    )


def test_brightness_follows_arousal_linearly_between_the_range_ends() -> None:
    settings = ColourSettings(min_brightness=20, max_brightness=220)
    assert mood_colour(0.3, -1, settings).brightness == 20
    assert mood_colour(-0.7, 1, settings).brightness == 220
    assert mood_colour(0.0, 0.0, settings).brightness == 120
    levels = [mood_colour(0, a, settings).brightness for a in GRID]
    assert levels == sorted(levels)


def test_saturation_grows_with_distance_and_respects_the_floor() -> None:
    floor = ColourSettings(saturation_floor=0.5)
    # Away from the neutral centre the colour is never paler than the floor: min channel <= 50 %.
    for valence, arousal in [(0.2, 0.0), (0.0, -0.15), (-0.12, 0.1)]:
        assert min(mood_colour(valence, arousal, floor).rgb) <= 128
    no_floor = ColourSettings(saturation_floor=0.0)
    assert mood_colour(0, 0, no_floor).rgb == (255, 255, 255)
    palest = [min(mood_colour(r, 0, no_floor).rgb) for r in (0.1, 0.4, 0.7, 1.0)]
    assert palest == sorted(palest, reverse=True)
    assert palest[-1] == 0


def test_hue_turns_one_way_round_the_circle() -> None:
    angles = [math.radians(45 + step) for step in range(360)]
    hues = [circumplex_hue(math.cos(a), math.sin(a)) for a in angles]
    unwrapped_steps = [((b - a + 180) % 360) - 180 for a, b in itertools.pairwise(hues)]
    assert all(step < 0 for step in unwrapped_steps)
    assert sum(unwrapped_steps) == pytest.approx(-360 + unwrapped_steps[0], abs=2)


def _max_channel_step(first: MoodColour, second: MoodColour) -> int:
    return max(abs(a - b) for a, b in zip(first.rgb, second.rgb, strict=True))


@pytest.mark.parametrize("settings", SETTINGS)
def test_small_input_changes_give_small_colour_changes(settings: ColourSettings) -> None:
    # Includes points right at and around the neutral centre, where a hue jump would show up. A jump
    # moves channels by ~100+; a 1e-3 step moves them by at most ~6 even with a full saturation
    # floor (it fades in over NEUTRAL_RADIUS, the steepest part of the map).
    rng = random.Random(7)
    points = [(rng.uniform(-1, 1), rng.uniform(-1, 1)) for _ in range(3000)]
    points += [(rng.uniform(-0.02, 0.02), rng.uniform(-0.02, 0.02)) for _ in range(1000)]
    step = 1e-3
    for valence, arousal in points:
        angle = rng.uniform(0, 2 * math.pi)
        near = (valence + step * math.cos(angle), arousal + step * math.sin(angle))
        here, there = mood_colour(valence, arousal, settings), mood_colour(*near, settings)
        assert _max_channel_step(here, there) <= 6, (valence, arousal, near)
        assert abs(here.brightness - there.brightness) <= 1


def test_continuity_property_based() -> None:
    hypothesis = pytest.importorskip("hypothesis")
    strategies = hypothesis.strategies
    unit = strategies.floats(min_value=-1.0, max_value=1.0, allow_nan=False)
    nudge = strategies.floats(min_value=-1e-3, max_value=1e-3, allow_nan=False)

    @hypothesis.given(unit, unit, nudge, nudge, strategies.sampled_from(SETTINGS))
    @hypothesis.settings(max_examples=400, deadline=None)
    def check(
        valence: float, arousal: float, dv: float, da: float, settings: ColourSettings
    ) -> None:
        here = mood_colour(valence, arousal, settings)
        there = mood_colour(valence + dv, arousal + da, settings)
        assert _max_channel_step(here, there) <= 6
        assert abs(here.brightness - there.brightness) <= 1

    check()


def test_colour_temperature_is_warm_for_calm_negative_and_cool_for_energetic_positive() -> None:
    assert colour_temperature_kelvin(-1, -1, 2700, 6500) == 2700
    assert colour_temperature_kelvin(1, 1, 2700, 6500) == 6500
    assert colour_temperature_kelvin(0, 0, 2700, 6500) == 4600


def test_delta_e_is_zero_for_equal_and_large_for_opposite_colours() -> None:
    assert delta_e((10, 20, 30), (10, 20, 30)) == 0
    assert delta_e((0, 0, 0), (255, 255, 255)) == pytest.approx(100, abs=0.01)
    assert delta_e((255, 0, 0), (0, 0, 255)) > 150


def test_hysteresis_ignores_tiny_changes_and_passes_visible_ones() -> None:
    hysteresis = ColourHysteresis(min_delta_e=4.0, min_brightness_delta=8)
    base = MoodColour(rgb=(200, 100, 50), brightness=150)
    assert hysteresis.should_update(None, base)
    assert not hysteresis.should_update(base, base)
    assert not hysteresis.should_update(base, MoodColour(rgb=(201, 101, 50), brightness=155))
    assert hysteresis.should_update(base, MoodColour(rgb=(200, 100, 50), brightness=158))
    assert hysteresis.should_update(base, MoodColour(rgb=(180, 100, 50), brightness=150))
    # A slow drift is sent once the accumulated change from the last *sent* colour is visible.
    sent = base
    sends = 0
    for red in range(200, 150, -1):
        candidate = MoodColour(rgb=(red, 100, 50), brightness=150)
        if hysteresis.should_update(sent, candidate):
            sent, sends = candidate, sends + 1
    assert 3 <= sends <= 20


def test_settings_reject_nonsense() -> None:
    with pytest.raises(ValueError, match="preset"):
        ColourSettings(preset="disco")
    with pytest.raises(ValueError, match="brightness"):
        ColourSettings(min_brightness=200, max_brightness=100)
    with pytest.raises(ValueError, match="corner"):
        ColourSettings(preset=PRESET_FOUR_CORNER, corner_colours={CORNER_POSITIVE_CALM: (1, 2, 3)})
