"""Choosing a constant added to one output axis so that more items land on their labelled side.

The choice is made on predictions the model did not fit (out-of-fold), never on validation: an
offset chosen in-sample is undetermined (the training items are all on their side for a wide range
of offsets) and one chosen on validation is hindsight.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

OFFSET_STEP = 0.005
OFFSET_LIMIT = 0.5


def sign_accuracy(predicted: NDArray[np.float64], signs: NDArray[np.float64]) -> float:
    """Share of items whose prediction is on the side of their ±1 label (0 counts as positive,
    as quality.sign_figures counts it)."""
    return float(np.mean(np.where(predicted >= 0, 1.0, -1.0) == np.sign(signs)))


def sign_offset(
    predicted: NDArray[np.float64],
    signs: NDArray[np.float64],
    step: float = OFFSET_STEP,
    limit: float = OFFSET_LIMIT,
) -> float:
    """The offset in [-limit, limit] that puts most items on their labelled side.

    Accuracy is a step function of the offset, so many offsets tie; of the best ones this takes
    the centre of the longest unbroken run on a grid of ``step`` (the offset furthest from flipping
    an item either way), and of equally long runs the one nearest 0.
    """
    grid = np.round(np.arange(-limit, limit + step / 2, step), 10)
    accuracy = np.array([sign_accuracy(predicted + offset, signs) for offset in grid])
    best = np.flatnonzero(accuracy == accuracy.max())
    runs = np.split(best, np.flatnonzero(np.diff(best) > 1) + 1)
    centres = [(grid[run[0]] + grid[run[-1]]) / 2 for run in runs]
    lengths = [len(run) for run in runs]
    chosen = min(range(len(runs)), key=lambda r: (-lengths[r], abs(centres[r])))
    return float(centres[chosen])
