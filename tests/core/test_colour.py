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
    DEFAULT_DRIFT_INTERVAL_S,
    PRESET_CIRCUMPLEX,
    PRESET_FOUR_CORNER,
    ColourChange,
    ColourHysteresis,
    ColourSettings,
    MoodColour,
    UpdatePacing,
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


# --- pacing: a new mood at once, drifts every few seconds ----------------------------------------

HOP_S = 0.5
MIN_GAP_S = 0.45


def _sent_times(
    moods: list[tuple[float, float, str]], pacing: UpdatePacing
) -> list[tuple[float, ColourChange]]:
    """Replays one reading per hop through the pacing as the driver does; returns what was sent."""
    sent: list[tuple[float, ColourChange]] = []
    last: MoodColour | None = None
    last_mood: str | None = None
    last_at: float | None = None
    for index, (valence, arousal, mood) in enumerate(moods):
        now = index * HOP_S
        colour = mood_colour(valence, arousal, ColourSettings())
        change = pacing.decide(
            last,
            colour,
            mood_changed=mood != last_mood,
            seconds_since_last=None if last_at is None else now - last_at,
            min_gap_s=MIN_GAP_S,
        )
        if change is not ColourChange.NONE:
            sent.append((now, change))
            last, last_mood, last_at = colour, mood, now
    return sent


def test_classify_sorts_changes_by_size() -> None:
    hysteresis = ColourHysteresis()
    base = MoodColour(rgb=(255, 170, 0), brightness=150)
    assert hysteresis.classify(base, base) is ColourChange.NONE
    assert hysteresis.classify(base, MoodColour((255, 160, 0), 150)) is ColourChange.DRIFT
    assert hysteresis.classify(base, MoodColour((255, 170, 0), 160)) is ColourChange.DRIFT
    assert hysteresis.classify(base, MoodColour((255, 0, 0), 150)) is ColourChange.MOOD
    assert hysteresis.classify(base, MoodColour((255, 170, 0), 200)) is ColourChange.MOOD


def test_a_drifting_mood_reaches_a_light_only_every_drift_interval() -> None:
    # Two minutes of a mood wandering slowly inside one quadrant: visible after a few hops each.
    hops = 240
    moods = [
        (0.45 + 0.25 * math.sin(index / 15.0), 0.45 + 0.25 * math.cos(index / 23.0), "happy")
        for index in range(hops)
    ]
    pacing = UpdatePacing()
    sent = _sent_times(moods, pacing)
    gaps = [later[0] - earlier[0] for earlier, later in itertools.pairwise(sent)]
    assert all(gap >= DEFAULT_DRIFT_INTERVAL_S for gap in gaps)
    # The drift is shown, just not every hop: close to one command per interval.
    assert len(sent) >= hops * HOP_S / DEFAULT_DRIFT_INTERVAL_S * 0.8
    # Without pacing the same mood would have cost a command on most hops.
    unpaced = _sent_times(moods, UpdatePacing(drift_interval_s=0.0))
    assert len(unpaced) > 2 * len(sent)


def test_wobble_around_the_neutral_centre_stays_a_drift() -> None:
    # The mood of a weak model: a few hundredths around the centre, where the hue swings widely,
    # drawn afresh each hop (harsher than a smoothed trace); the dead-banded label stays calm.
    rng = random.Random(5)
    moods = [(rng.uniform(-0.02, 0.05), rng.uniform(-0.15, -0.05), "calm") for _ in range(120)]
    sent = _sent_times(moods, UpdatePacing())
    assert sent[0][1] is ColourChange.MOOD  # the first command
    assert all(change is ColourChange.DRIFT for _, change in sent[1:])
    assert len(sent) <= 1 + 120 * HOP_S / DEFAULT_DRIFT_INTERVAL_S


def test_a_change_of_mood_is_sent_at_the_next_reading() -> None:
    pacing = UpdatePacing()
    # Just across the arousal axis: a visible step, but well below the immediate ΔE ...
    before, after = (
        mood_colour(0.5, 0.08, ColourSettings()),
        mood_colour(0.5, -0.12, ColourSettings()),
    )
    assert pacing.hysteresis.classify(before, after) is ColourChange.DRIFT
    # ... so as a drift it waits, and once the dead-banded label says calm it goes out at once.
    steady = [(0.5, 0.08, "happy")] * 6  # 3 s: shorter than the drift interval
    sent = _sent_times([*steady, (0.5, -0.12, "happy")], pacing)
    assert sent == [(0.0, ColourChange.MOOD)]
    sent = _sent_times([*steady, (0.5, -0.12, "happy"), (0.5, -0.12, "calm")], pacing)
    assert sent[-1] == (7 * HOP_S, ColourChange.MOOD)
    # A large step within one quadrant goes out at once too.
    sent = _sent_times([*steady, (0.05, 0.95, "happy")], pacing)
    assert sent[-1] == (6 * HOP_S, ColourChange.MOOD)


def test_nothing_is_sent_twice_within_one_reading() -> None:
    pacing = UpdatePacing()
    first = mood_colour(0.5, 0.5, ColourSettings())
    other = mood_colour(-0.5, -0.5, ColourSettings())
    assert (
        pacing.decide(first, other, mood_changed=True, seconds_since_last=0.1, min_gap_s=MIN_GAP_S)
        is ColourChange.NONE
    )
    assert (
        pacing.decide(first, other, mood_changed=True, seconds_since_last=0.5, min_gap_s=MIN_GAP_S)
        is ColourChange.MOOD
    )


def test_pacing_rejects_a_negative_interval() -> None:
    with pytest.raises(ValueError, match="drift_interval_s"):
        UpdatePacing(drift_interval_s=-1.0)
