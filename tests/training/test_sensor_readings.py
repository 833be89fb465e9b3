"""Readings as the sensors publish them (training/sensor_readings.py); side-by-side helpers."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from music_mood_core.model import BUNDLED_MODEL_PATH, load_model
from music_mood_core.timeline import Timeline, timeline

from training.datasets import CONTINUOUS, LabelledItem
from training.quality import figures_behind, figures_markdown
from training.sensor_readings import SensorSmoothing, at_label_times, published_values

HOP_S = 0.5
SAMPLE_RATE = 22050
LOUD, QUIET = -20.0, -70.0
DEFAULTS = SensorSmoothing(smoothing_s=4.0, silence_threshold_db=-50.0, silence_duration_s=3.0)


def _readings(valence: list[float], arousal: list[float], levels: list[float]) -> Timeline:
    """Readings every hop from 3 s on, as a stream that starts with the audio emits them."""
    ends = (np.arange(len(valence)) + 6) * round(HOP_S * SAMPLE_RATE)
    return Timeline(
        SAMPLE_RATE,
        ends.astype(np.int64),
        np.array(valence, np.float32),
        np.array(arousal, np.float32),
        np.array(levels, np.float64),
    )


def test_published_values_follow_a_step_on_audio_time() -> None:
    # A step of one at reading 10: one time constant (8 hops of 0.5 s) later the sensors show
    # 1 - 1/e of it; a smoother stepped per reading instead of per hop would show far more.
    raw = [0.0] * 10 + [1.0] * 20
    values = published_values(_readings(raw, [-x for x in raw], [LOUD] * 30), HOP_S, DEFAULTS)
    assert np.all(values[:10] == 0.0)
    step_at = 9  # the last reading before the step; 8 hops later one time constant has passed
    assert values[step_at + 8, 0] == pytest.approx(1.0 - math.exp(-1.0), abs=1e-6)
    assert values[step_at + 8, 1] == pytest.approx(-(1.0 - math.exp(-1.0)), abs=1e-6)


def test_quiet_readings_do_not_move_what_the_sensors_show() -> None:
    raw = [0.2, 0.2, 0.9, -0.9, 0.2]
    levels = [LOUD, LOUD, QUIET, QUIET, LOUD]
    values = published_values(_readings(raw, raw, levels), HOP_S, DEFAULTS)
    assert values[2, 0] == values[1, 0] == values[3, 0] == pytest.approx(0.2)


def test_no_smoothing_publishes_each_loud_reading_as_it_is() -> None:
    rng = np.random.default_rng(1)
    raw = rng.uniform(-1, 1, (2, 12)).astype(np.float32)
    readings = _readings(raw[0].tolist(), raw[1].tolist(), [LOUD] * 12)
    values = published_values(readings, HOP_S, SensorSmoothing(0.0, -50.0, 3.0))
    np.testing.assert_array_equal(values, raw.T.astype(np.float64))


def test_each_label_meets_the_reading_that_ends_at_its_time() -> None:
    readings = _readings([0.0] * 20, [0.0] * 20, [LOUD] * 20)  # ends 3.0 .. 12.5 s
    values = np.stack([np.arange(20.0), -np.arange(20.0)], axis=1)
    times = np.array([4.0, 4.5, 5.0, 12.5, 13.0])  # 13.0 s: past the audio's last excerpt
    targets = np.array(
        [[0.1, 0.2], [np.nan, np.nan], [np.nan, 0.3], [0.4, 0.5], [0.6, 0.7]], np.float32
    )
    item = LabelledItem(
        "emomusic_2013", "7", "7", Path("7.mp3"), times, targets, CONTINUOUS, 1.0, None
    )
    paired = at_label_times(item, readings, values, HOP_S)
    # 4.0 s is reading 2, 5.0 s reading 4 (one axis known), 12.5 s reading 19.
    assert paired.predictions[:, 0].tolist() == [2.0, 4.0, 19.0]
    np.testing.assert_array_equal(paired.targets, targets[[0, 2, 3]].astype(np.float64))
    with pytest.raises(ValueError, match="values for"):
        at_label_times(item, readings, values[:5], HOP_S)


def test_smoothing_calms_a_real_model_on_music_that_alternates() -> None:
    # Noise and a tone swapping every 2 s: the raw readings jump with the swaps; what the sensors
    # show with the default smoothing moves less, and with none it is the raw readings.
    rng = np.random.default_rng(0)
    t = np.arange(20 * SAMPLE_RATE) / SAMPLE_RATE
    tone = 0.5 * np.sin(2 * np.pi * 220 * t)
    noise = rng.normal(0.0, 0.3, t.size)
    wave = np.where((t // 2.0) % 2 == 0, tone, noise)
    model = load_model(BUNDLED_MODEL_PATH)
    readings = timeline(np.round(wave * 32767).astype(np.int16), model)
    hop_s = float(model.info.hop_s)
    raw = np.stack([readings.valence, readings.arousal], axis=1).astype(np.float64)
    assert len(readings) > 20
    plain = published_values(readings, hop_s, SensorSmoothing(0.0, -50.0, 3.0))
    np.testing.assert_array_equal(plain, raw)
    smoothed = published_values(readings, hop_s, DEFAULTS)
    assert np.all(np.std(np.diff(smoothed, axis=0), axis=0) < 0.5 * np.std(np.diff(raw, axis=0)))


def test_figures_behind_knows_that_a_lower_rmse_is_better() -> None:
    ours = {
        "emomusic_2013": {"arousal_rmse": 0.30, "valence_rmse": 0.10, "arousal_pearson": 0.40},
        "4q_panda": {"quadrant": 0.6004, "arousal_sign": 0.85, "valence_sign": math.nan},
    }
    theirs = {
        "emomusic_2013": {"arousal_rmse": 0.20, "valence_rmse": 0.30, "arousal_pearson": 0.70},
        "4q_panda": {"quadrant": 0.6001, "arousal_sign": 0.80, "valence_sign": 0.70},
        "emotify": {"arousal_spearman": 0.9},
    }
    # quadrant ties as tabled (0.600), a NaN figure and a set only one row has are no verdict.
    assert figures_behind(ours, theirs) == [
        "emomusic_2013 arousal_rmse 0.300 > 0.200",
        "emomusic_2013 arousal_pearson 0.400 < 0.700",
    ]
    assert figures_behind(theirs, ours) == [
        "4q_panda arousal_sign 0.800 < 0.850",
        "emomusic_2013 valence_rmse 0.300 > 0.100",
    ]


def test_tables_leave_out_rows_scored_on_other_sets_only() -> None:
    rows = {
        "model": {"vgmidi": {"arousal_spearman": 0.8, "n": 32.0}, "emomusic_2013": {"n": 8.0}},
        "model, as published": {"emomusic_2013": {"arousal_rmse": 0.25, "n": 8.0}},
    }
    text = figures_markdown(rows)
    vgmidi_table = text.split("### emomusic_2013")[0]
    assert "as published" not in vgmidi_table
    assert "| model, as published | 0.250 | - | - | - |" in text
