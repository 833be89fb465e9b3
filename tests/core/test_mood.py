"""Smoothing, silence detection and quadrant labels of the pure mood tracker."""

from __future__ import annotations

import math

import pytest
from music_mood_core.mood import (
    MOOD_CALM,
    MOOD_HAPPY,
    MOOD_NONE,
    MOOD_SAD,
    MOOD_TENSE,
    ExponentialSmoother,
    MoodTracker,
    SilenceDetector,
    quadrant,
)


@pytest.mark.parametrize(
    ("valence", "arousal", "expected"),
    [
        (0.5, 0.5, MOOD_HAPPY),
        (-0.5, 0.5, MOOD_TENSE),
        (-0.5, -0.5, MOOD_SAD),
        (0.5, -0.5, MOOD_CALM),
        (0.0, 0.0, MOOD_HAPPY),
        (-1e-9, 0.0, MOOD_TENSE),
    ],
)
def test_quadrant(valence: float, arousal: float, expected: str) -> None:
    assert quadrant(valence, arousal) == expected


def test_smoother_reaches_63_percent_after_one_time_constant_in_any_step_size() -> None:
    for steps in (1, 4, 20):
        smoother = ExponentialSmoother(2.0)
        smoother.update(0.0, 0.5)
        for _ in range(steps):
            value = smoother.update(1.0, 2.0 / steps)
        assert value == pytest.approx(1.0 - math.exp(-1.0), rel=1e-12)


def test_smoother_with_zero_time_constant_passes_through() -> None:
    smoother = ExponentialSmoother(0.0)
    assert smoother.update(0.3, 0.5) == 0.3
    assert smoother.update(-0.7, 0.5) == -0.7


def test_smoother_rejects_negative_time_constant() -> None:
    with pytest.raises(ValueError, match="negative"):
        ExponentialSmoother(-1.0)


def test_silence_needs_the_full_hold_time_and_music_returns_at_once() -> None:
    detector = SilenceDetector(threshold_dbfs=-50.0, hold_s=1.5)
    assert detector.update(-20.0, 0.5)
    assert detector.update(-70.0, 0.5)
    assert detector.update(-70.0, 0.5)
    assert not detector.update(-70.0, 0.5)
    assert detector.update(-49.0, 0.5)


def test_tracker_holds_last_mood_through_silence() -> None:
    tracker = MoodTracker(smoothing_s=0.0, silence_threshold_dbfs=-50.0, silence_duration_s=1.0)
    state = tracker.update(0.6, -0.4, -10.0, 0.5)
    assert (state.valence, state.arousal, state.mood, state.playing) == (0.6, -0.4, MOOD_CALM, True)
    # Quiet hops: the model's noise must not move the held values.
    state = tracker.update(-0.9, 0.9, -80.0, 0.5)
    assert (state.valence, state.arousal, state.playing) == (0.6, -0.4, True)
    assert state.raw_valence == -0.9
    state = tracker.update(-0.9, 0.9, -80.0, 0.5)
    assert (state.valence, state.arousal, state.mood, state.playing) == (
        0.6,
        -0.4,
        MOOD_NONE,
        False,
    )
    state = tracker.update(-0.2, 0.3, -30.0, 0.5)
    assert (state.mood, state.playing) == (MOOD_TENSE, True)


def test_tracker_before_any_music_is_neutral_and_moodless() -> None:
    tracker = MoodTracker(smoothing_s=4.0, silence_threshold_dbfs=-50.0, silence_duration_s=0.0)
    state = tracker.update(0.8, 0.8, -90.0, 0.5)
    assert (state.valence, state.arousal, state.mood, state.playing) == (0.0, 0.0, MOOD_NONE, False)
    assert state.level_dbfs == -90.0


def test_tracker_smooths_with_time_constant() -> None:
    tracker = MoodTracker(smoothing_s=1.0, silence_threshold_dbfs=-50.0, silence_duration_s=2.0)
    tracker.update(0.0, 0.0, -10.0, 0.5)
    state = tracker.update(1.0, -1.0, -10.0, 0.5)
    weight = 1.0 - math.exp(-0.5)
    assert state.valence == pytest.approx(weight)
    assert state.arousal == pytest.approx(-weight)
    assert state.mood == MOOD_CALM
