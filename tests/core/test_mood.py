"""Smoothing, silence detection and quadrant labels of the pure mood tracker."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable

import numpy as np
import pytest
from music_mood_core.features import ExcerptStream, FrameGrid
from music_mood_core.model import BUNDLED_MODEL_PATH, load_model
from music_mood_core.mood import (
    DEFAULT_DEAD_BAND,
    DEFAULT_DWELL_S,
    MOOD_CALM,
    MOOD_HAPPY,
    MOOD_NONE,
    MOOD_SAD,
    MOOD_TENSE,
    ExponentialSmoother,
    MoodState,
    MoodTracker,
    QuadrantHysteresis,
    SilenceDetector,
    quadrant,
)

HOP_S = 0.5
LOUD = -20.0


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
    tracker = MoodTracker(
        smoothing_s=0.0,
        silence_threshold_dbfs=-50.0,
        silence_duration_s=1.0,
        dead_band=0.0,
        dwell_s=0.0,
    )
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
    tracker = MoodTracker(
        smoothing_s=1.0,
        silence_threshold_dbfs=-50.0,
        silence_duration_s=2.0,
        dead_band=0.0,
        dwell_s=0.0,
    )
    tracker.update(0.0, 0.0, -10.0, 0.5)
    state = tracker.update(1.0, -1.0, -10.0, 0.5)
    weight = 1.0 - math.exp(-0.5)
    assert state.valence == pytest.approx(weight)
    assert state.arousal == pytest.approx(-weight)
    assert state.mood == MOOD_CALM


# --- the mood label's dead band and dwell ----------------------------------------------------


def _run(tracker: MoodTracker, raw: Iterable[tuple[float, float]]) -> list[MoodState]:
    return [tracker.update(valence, arousal, LOUD, HOP_S) for valence, arousal in raw]


def _changes(states: list[MoodState]) -> int:
    return sum(1 for before, after in itertools.pairwise(states) if before.mood != after.mood)


def _steady_passage_near_the_valence_axis(seconds: float) -> list[tuple[float, float]]:
    """Raw predictions as a weak model gives them on a steady passage: valence hovering just
    around zero, arousal a little below it, and hop-to-hop noise larger than the mean."""
    rng = np.random.default_rng(7)
    hops = int(seconds / HOP_S)
    valence = 0.015 + 0.08 * rng.standard_normal(hops)
    arousal = -0.12 + 0.05 * rng.standard_normal(hops)
    return list(zip(valence.tolist(), arousal.tolist(), strict=True))


def test_a_steady_passage_near_an_axis_keeps_one_mood() -> None:
    raw = _steady_passage_near_the_valence_axis(120.0)
    flapping = _run(MoodTracker(4.0, -50.0, 3.0, dead_band=0.0, dwell_s=0.0), raw)
    steady = _run(MoodTracker(4.0, -50.0, 3.0), raw)
    # Without the dead band the label follows the smoothed valence across zero again and again.
    assert _changes(flapping) >= 6
    assert _changes(steady) == 0
    # The smoothed values themselves are the same: only the label is held.
    assert [state.valence for state in steady] == [state.valence for state in flapping]


def test_a_real_change_of_mood_still_switches_once_past_band_and_dwell() -> None:
    raw = [(0.5, 0.5)] * 20 + [(0.5, -0.5)] * 40  # happy, then calm
    states = _run(MoodTracker(4.0, -50.0, 3.0), raw)
    moods = [state.mood for state in states]
    assert moods[0] == MOOD_HAPPY
    assert moods[-1] == MOOD_CALM
    assert _changes(states) == 1
    first_past_band = next(
        i for i, state in enumerate(states) if state.arousal < -DEFAULT_DEAD_BAND
    )
    dwell_hops = math.ceil(DEFAULT_DWELL_S / HOP_S)
    assert moods.index(MOOD_CALM) == first_past_band + dwell_hops - 1
    assert moods[first_past_band - 1] == MOOD_HAPPY


def test_a_short_excursion_past_the_band_does_not_change_the_mood() -> None:
    label = QuadrantHysteresis(dead_band=0.1, dwell_s=1.0)
    assert label.update(0.3, 0.3, HOP_S) == MOOD_HAPPY
    # One hop well past the band, then back inside it: shorter than the dwell.
    assert label.update(-0.3, 0.3, HOP_S) == MOOD_HAPPY
    assert label.update(-0.05, 0.3, HOP_S) == MOOD_HAPPY
    # Inside the band on the other side of zero: still happy, however long.
    for _ in range(20):
        assert label.update(-0.09, 0.3, HOP_S) == MOOD_HAPPY
    # Past the band for the dwell: tense.
    assert label.update(-0.11, 0.3, HOP_S) == MOOD_HAPPY
    assert label.update(-0.11, 0.3, HOP_S) == MOOD_TENSE
    # And the way back needs the band on the positive side too.
    for _ in range(20):
        assert label.update(0.09, 0.3, HOP_S) == MOOD_TENSE


def test_the_dwell_restarts_when_the_candidate_quadrant_changes() -> None:
    label = QuadrantHysteresis(dead_band=0.1, dwell_s=1.0)
    assert label.update(0.3, 0.3, HOP_S) == MOOD_HAPPY
    assert label.update(-0.3, 0.3, HOP_S) == MOOD_HAPPY  # tense pending
    assert label.update(-0.3, -0.3, HOP_S) == MOOD_HAPPY  # now sad pending, from zero
    assert label.update(-0.3, -0.3, HOP_S) == MOOD_SAD


def test_zero_band_and_dwell_is_the_plain_quadrant() -> None:
    label = QuadrantHysteresis(dead_band=0.0, dwell_s=0.0)
    rng = np.random.default_rng(3)
    for valence, arousal in rng.uniform(-1.0, 1.0, size=(200, 2)).tolist():
        assert label.update(valence, arousal, HOP_S) == quadrant(valence, arousal)
    assert label.update(0.0, 0.0, HOP_S) == quadrant(0.0, 0.0)


def test_hysteresis_rejects_settings_out_of_range() -> None:
    with pytest.raises(ValueError, match="dead band"):
        QuadrantHysteresis(dead_band=-0.1)
    with pytest.raises(ValueError, match="dead band"):
        QuadrantHysteresis(dead_band=1.0)
    with pytest.raises(ValueError, match="dwell"):
        QuadrantHysteresis(dwell_s=-1.0)


def test_silence_keeps_the_held_label_and_music_resumes_it() -> None:
    tracker = MoodTracker(0.0, -50.0, 1.0)
    assert tracker.update(0.4, -0.4, LOUD, HOP_S).mood == MOOD_CALM
    for _ in range(3):
        state = tracker.update(-0.9, 0.9, -80.0, HOP_S)
    assert (state.mood, state.playing) == (MOOD_NONE, False)
    # Music is back, close to the axis on the other side: the held side stands.
    assert tracker.update(-0.05, -0.4, LOUD, HOP_S).mood == MOOD_CALM


def _bundled_model_on_generated_music(seconds: float) -> list[tuple[float, float]]:
    """Raw predictions of the bundled model, through the live excerpt path, on a generated piece:
    a slow chord progression with a pulse, steady throughout (no change of character)."""
    model = load_model(BUNDLED_MODEL_PATH, engine="numpy")
    info = model.info
    rate = int(info.sample_rate)
    time = np.arange(int(seconds * rate)) / rate
    chords = ((220.0, 277.2, 329.6), (196.0, 246.9, 293.7), (174.6, 220.0, 261.6))
    signal = np.zeros_like(time)
    bar = 2.0
    for index, chord in enumerate(chords * int(seconds / bar / len(chords) + 1)):
        part = (time >= index * bar) & (time < (index + 1) * bar)
        for frequency in chord:
            signal[part] += np.sin(2 * np.pi * frequency * time[part])
    pulse = 0.6 + 0.4 * (np.sin(2 * np.pi * 2.0 * time) > 0)
    rng = np.random.default_rng(11)
    pcm = (signal * pulse / 3.0 * 12000 + 300 * rng.standard_normal(time.size)).astype(np.int16)
    stream = ExcerptStream(
        FrameGrid.from_seconds(rate, info.window_s, info.step_s),
        sequence_length=int(info.sequence_length),
        hop_samples=round(info.hop_s * rate),
    )
    windows = stream.push(pcm)
    features = np.stack([window.features for window in windows])
    if getattr(model.info, "needs_loudness", False):
        # Models that also read the excerpt's loudness (format 2) get it as the pipeline gives it.
        loudness = np.stack([window.frame_levels_dbfs for window in windows])
        outputs = model.predict(features, loudness)
    else:
        outputs = model.predict(features)
    return [(float(valence), float(arousal)) for valence, arousal in outputs]


def test_on_real_model_output_every_change_is_past_the_band_and_held_for_the_dwell() -> None:
    raw = _bundled_model_on_generated_music(90.0)
    assert len(raw) > 150
    dwell_hops = math.ceil(DEFAULT_DWELL_S / HOP_S)
    for smoothing_s, dead_band in itertools.product((0.0, 1.0, 4.0), (0.03, DEFAULT_DEAD_BAND)):
        plain = _run(MoodTracker(smoothing_s, -50.0, 3.0, dead_band=0.0, dwell_s=0.0), raw)
        held = _run(MoodTracker(smoothing_s, -50.0, 3.0, dead_band=dead_band), raw)
        assert _changes(held) <= _changes(plain)
        for index in range(1, len(held)):
            before, after = held[index - 1].mood, held[index].mood
            if before == after:
                continue
            # The dwell's hops before (and including) this one all lie past the band, on the new
            # side of each axis that flipped.
            for state in held[index - dwell_hops + 1 : index + 1]:
                if (before in (MOOD_HAPPY, MOOD_CALM)) != (after in (MOOD_HAPPY, MOOD_CALM)):
                    assert abs(state.valence) >= dead_band
                    assert (state.valence > 0) == (after in (MOOD_HAPPY, MOOD_CALM))
                if (before in (MOOD_HAPPY, MOOD_TENSE)) != (after in (MOOD_HAPPY, MOOD_TENSE)):
                    assert abs(state.arousal) >= dead_band
                    assert (state.arousal > 0) == (after in (MOOD_HAPPY, MOOD_TENSE))
