"""Statistics of the frames' order (training/excerpt_dynamics.py) on generated envelopes and on
the features of generated audio."""

from __future__ import annotations

import numpy as np
import pytest

from training.excerpt_cache import compute_excerpts
from training.excerpt_dynamics import (
    PULSE_FIXED_LAGS,
    PULSE_LAGS,
    autocorrelation,
    excerpt_pulse,
    frame_change,
    lagged_means,
    pulse_statistics,
)

FRAMES = 60


def _direct_autocorrelation(envelope: np.ndarray, lag: int) -> float:
    centred = envelope - envelope.mean()
    lagged = float(np.mean(centred[:-lag] * centred[lag:]))
    return lagged / float(np.mean(centred * centred))


def test_the_lag_matrix_gives_the_same_autocorrelation_as_a_loop_over_frames() -> None:
    envelopes = np.random.default_rng(0).normal(size=(4, FRAMES))
    found = autocorrelation(envelopes, PULSE_LAGS)
    expected = [[_direct_autocorrelation(e, lag) for lag in PULSE_LAGS] for e in envelopes]
    np.testing.assert_allclose(found, expected, rtol=1e-9, atol=1e-12)


def test_a_beat_every_half_second_peaks_at_its_period_and_noise_does_not_pulse() -> None:
    t = np.arange(FRAMES)
    beat = np.where(t % 10 == 0, 1.0, 0.0)[None]
    statistics = pulse_statistics(beat)
    correlations = dict(zip(PULSE_LAGS, autocorrelation(beat, PULSE_LAGS)[0], strict=True))
    peaks = {lag for lag, value in correlations.items() if value > 0.9}
    assert peaks == {10, 20}
    assert all(value < 0.0 for lag, value in correlations.items() if lag not in peaks)
    assert statistics[0, 0] == pytest.approx(max(correlations.values()))
    assert statistics[0, 0] > 0.9
    # Fixed lags follow the maximum: 0.25 s, 0.5 s, 0.75 s, 1 s.
    assert PULSE_FIXED_LAGS == (5, 10, 15, 20)
    assert statistics[0, 2] == pytest.approx(statistics[0, 0])
    assert statistics[0, 4] > 0.9
    assert statistics[0, 1] < 0.0
    assert statistics[0, 3] < 0.0
    noise = pulse_statistics(np.random.default_rng(1).normal(size=(200, FRAMES)))
    assert np.median(noise[:, 0]) < 0.4


def test_pulse_does_not_depend_on_the_envelope_s_offset_or_scale_and_a_flat_one_is_zero() -> None:
    envelope = np.random.default_rng(2).normal(size=(3, FRAMES))
    np.testing.assert_allclose(pulse_statistics(5.0 * envelope - 40.0), pulse_statistics(envelope))
    np.testing.assert_array_equal(pulse_statistics(np.full((1, FRAMES), -30.0)), 0.0)


def test_lags_outside_the_excerpt_are_refused() -> None:
    with pytest.raises(ValueError, match="lag 60"):
        lagged_means(FRAMES, [5, 60])


def test_frame_change_ignores_order_free_statistics_and_sees_shuffling() -> None:
    ramp = np.linspace(0.0, 1.0, FRAMES)
    frames = np.stack([ramp, ramp[::-1]], axis=1)[None]  # (1, 60, 2)
    shuffled = frames[:, np.random.default_rng(3).permutation(FRAMES)]
    np.testing.assert_allclose(frame_change(frames), [[1.0 / (FRAMES - 1)] * 2])
    # The same values in another order: same mean and spread, much more change.
    assert np.all(frame_change(shuffled) > 5 * frame_change(frames))


SECONDS = 6.0


def _pulsed_tone(beats_per_second: float) -> np.ndarray:
    t = np.arange(int(SECONDS * 22050)) / 22050
    gate = (np.mod(t * beats_per_second, 1.0) < 0.2).astype(float)
    wave = np.sin(2 * np.pi * 440 * t) * (0.05 + 0.95 * gate)
    return np.round(wave * 0.5 * 32767).astype(np.int16)


def _noise() -> np.ndarray:
    wave = np.random.default_rng(4).normal(scale=0.1, size=int(SECONDS * 22050))
    return np.round(wave * 32767).astype(np.int16)


def test_a_tone_pulsed_twice_a_second_pulses_clearly_in_level_energy_and_flux() -> None:
    excerpts = compute_excerpts(_pulsed_tone(2.0))
    pulsed = excerpt_pulse(excerpts.features, excerpts.levels)
    noise = compute_excerpts(_noise())
    unpulsed = excerpt_pulse(noise.features, noise.levels)
    width = 1 + len(PULSE_FIXED_LAGS)
    assert pulsed.shape == (len(excerpts.features), 3 * width)
    last = pulsed[-1]
    for envelope in range(3):
        clarity, _, half, _, whole = last[envelope * width : (envelope + 1) * width]
        assert clarity > 0.7, envelope
        assert half == pytest.approx(clarity, abs=0.1), envelope
        assert whole > 0.5, envelope
    # Steady noise has no beat: no lag stands out in any envelope.
    assert np.all(unpulsed[-1, ::width] < 0.5)
