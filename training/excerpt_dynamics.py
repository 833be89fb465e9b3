"""How an excerpt moves inside its 3 s: statistics of its frames' order, not only their values.

The statistics candidate sees each feature's mean and spread over the 60 frames, which do not
change when the frames are shuffled; rhythm and pulse, strong arousal cues, live in their order.
Two such statistics, both computable in an ONNX graph from the model's own inputs (frames and
frame levels) with linear maps, products and means:

- the mean absolute frame-to-frame change of each feature;
- pulse: the normalised autocorrelation of an envelope (frame level, frame energy or spectral
  flux) at lags of 0.25 to 1 s, its largest value (how clearly the excerpt pulses) and its value at
  a few fixed lags.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from music_mood_core.features import FEATURE_NAMES
from numpy.typing import NDArray

# 50 ms frames: lags of 5 to 20 frames are beats of 0.25 to 1 s (240 to 60 per minute).
PULSE_LAGS: tuple[int, ...] = tuple(range(5, 21))
PULSE_FIXED_LAGS: tuple[int, ...] = (5, 10, 15, 20)
PULSE_ENVELOPES: tuple[str, ...] = ("level", "energy", "spectral_flux")


def frame_change(features: NDArray[np.floating]) -> NDArray[np.float64]:
    """(n, frames, f) -> (n, f): the mean |x[t + 1] - x[t]| of each feature over the frames."""
    values = np.asarray(features, np.float64)
    change: NDArray[np.float64] = np.abs(np.diff(values, axis=1)).mean(axis=1)
    return change


def lagged_means(frames: int, lags: Sequence[int]) -> NDArray[np.float64]:
    """(frames, frames * len(lags)): x @ M gives, per lag k, x shifted by k and weighted by
    1 / (frames - k), so that a product with x summed over the frames is the mean lagged product.

    One constant matrix is how a graph would compute every lag at once (MatMul, Mul, a sum).
    """
    matrix = np.zeros((frames, frames * len(lags)))
    for column, lag in enumerate(lags):
        if not 0 < lag < frames:
            raise ValueError(f"lag {lag} outside 1..{frames - 1}")
        for t in range(frames - lag):
            matrix[t + lag, column * frames + t] = 1.0 / (frames - lag)
    return matrix


def autocorrelation(
    envelope: NDArray[np.floating], lags: Sequence[int], floor: float = 1e-12
) -> NDArray[np.float64]:
    """(n, frames) -> (n, len(lags)): mean of c[t] c[t + k] over the overlapping frames, divided
    by the mean of c[t]^2, where c is the envelope minus its mean; 0 for a flat envelope."""
    values = np.asarray(envelope, np.float64)
    centred = values - values.mean(axis=1, keepdims=True)
    frames = centred.shape[1]
    shifted = (centred @ lagged_means(frames, lags)).reshape(len(centred), len(lags), frames)
    products = (shifted * centred[:, None, :]).sum(axis=2)
    variance = (centred * centred).mean(axis=1, keepdims=True)
    correlations: NDArray[np.float64] = products / (variance + floor)
    return correlations


def pulse_statistics(
    envelope: NDArray[np.floating],
    lags: Sequence[int] = PULSE_LAGS,
    fixed: Sequence[int] = PULSE_FIXED_LAGS,
) -> NDArray[np.float64]:
    """(n, frames) -> (n, 1 + len(fixed)): the largest autocorrelation over ``lags`` (pulse
    clarity), then the autocorrelation at each of the ``fixed`` lags."""
    correlations = autocorrelation(envelope, lags)
    columns = [list(lags).index(lag) for lag in fixed]
    return np.concatenate([correlations.max(axis=1, keepdims=True), correlations[:, columns]], 1)


def pulse_envelope(
    name: str, features: NDArray[np.floating], levels: NDArray[np.floating]
) -> NDArray[np.float64]:
    """(n, frames) envelope named in PULSE_ENVELOPES: the frame level (dBFS) or a feature."""
    if name == "level":
        return np.asarray(levels, np.float64)
    if name not in PULSE_ENVELOPES:
        raise ValueError(f"unknown envelope {name!r}; expected one of {PULSE_ENVELOPES}")
    return np.asarray(features, np.float64)[:, :, FEATURE_NAMES.index(name)]


def excerpt_pulse(
    features: NDArray[np.floating],
    levels: NDArray[np.floating],
    envelopes: Sequence[str] = PULSE_ENVELOPES,
) -> NDArray[np.float64]:
    """(n, frames, 68), (n, frames) -> (n, len(envelopes) * (1 + len(PULSE_FIXED_LAGS)))."""
    return np.concatenate(
        [pulse_statistics(pulse_envelope(name, features, levels)) for name in envelopes], axis=1
    )
