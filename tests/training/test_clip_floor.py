"""The clip-level floor used to calibrate the 4Q split (training/clip_floor.py)."""

from __future__ import annotations

import numpy as np

from training.clip_floor import (
    EXCERPT_STRIDE,
    ClipSet,
    clip_inputs,
    fit_floor,
    floor_figures,
    quadrant_of,
)
from training.excerpt_cache import compute_excerpts


def _tone(gain: float, seconds: float = 12.0) -> np.ndarray:
    t = np.arange(int(seconds * 22050)) / 22050
    wave = np.sin(2 * np.pi * 440 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 0.5 * t))
    return np.round(wave * gain * 32767).astype(np.int16)


def test_excerpts_three_seconds_apart_touch_end_to_end() -> None:
    assert EXCERPT_STRIDE == 6


def test_clip_level_follows_the_gain_and_the_features_do_not() -> None:
    loud = compute_excerpts(_tone(0.8))
    quiet = compute_excerpts(_tone(0.08))
    loud_inputs = clip_inputs(loud.features, loud.levels)
    quiet_inputs = clip_inputs(quiet.features, quiet.levels)
    assert loud_inputs.shape == (68 + 68 + 1,)
    assert abs(loud_inputs[-1] - quiet_inputs[-1] - 20.0) < 0.05
    # Each excerpt is normalised on its own, so only the energy-like features may move a little.
    assert np.mean(np.isclose(loud_inputs[:-1], quiet_inputs[:-1], rtol=1e-2, atol=1e-3)) > 0.8


def test_quadrants_follow_russell() -> None:
    valence = np.array([0.5, -0.5, -0.5, 0.5])
    arousal = np.array([0.5, 0.5, -0.5, -0.5])
    assert quadrant_of(valence, arousal).tolist() == [1, 2, 3, 4]


def test_floor_figures_score_the_quadrant_and_its_signs() -> None:
    rng = np.random.default_rng(0)
    centres = {1: (2, 2), 2: (-2, 2), 3: (-2, -2), 4: (2, -2)}
    quadrant = np.repeat([1, 2, 3, 4], 20)
    inputs = np.zeros((len(quadrant), 137))
    inputs[:, :2] = [centres[q] for q in quadrant]
    inputs[:, :136] += rng.normal(0, 0.3, (len(quadrant), 136))
    inputs[:, -1] = -20.0
    clips = ClipSet(inputs, quadrant, [str(i) for i in range(len(quadrant))])
    model = fit_floor(clips)
    assert floor_figures(model, clips) == {
        "quadrant": 1.0,
        "arousal_sign": 1.0,
        "valence_sign": 1.0,
        "n": 80.0,
    }
    # A wrong quadrant on the valence side only: arousal stays right, valence and quadrant wrong.
    swapped = ClipSet(inputs, np.array([{1: 2, 2: 1, 3: 4, 4: 3}[q] for q in quadrant]), [])
    figures = floor_figures(model, swapped)
    assert figures["arousal_sign"] == 1.0
    assert figures["valence_sign"] == 0.0
    assert figures["quadrant"] == 0.0
