"""Choosing an output offset from out-of-fold predictions (training/output_offsets.py)."""

from __future__ import annotations

import numpy as np
import pytest

from training.output_offsets import OFFSET_STEP, sign_accuracy, sign_offset


def test_zero_counts_as_positive_like_the_quality_figures() -> None:
    predicted = np.array([0.0, -0.1, 0.2, -0.3])
    signs = np.array([1.0, -1.0, -1.0, 1.0])
    assert sign_accuracy(predicted, signs) == 0.5


def test_offset_moves_a_shifted_model_to_the_centre_of_the_gap() -> None:
    # Positives at -0.05 and 0.2, negatives at -0.3 and -0.25: every item is on its side for
    # offsets from 0.05 up to (not including) 0.25, so the centre is about 0.15.
    predicted = np.array([-0.05, 0.2, -0.3, -0.25])
    signs = np.array([1.0, 1.0, -1.0, -1.0])
    offset = sign_offset(predicted, signs)
    assert sign_accuracy(predicted, signs) == 0.75
    assert sign_accuracy(predicted + offset, signs) == 1.0
    assert offset == pytest.approx(0.1475, abs=OFFSET_STEP)


def test_a_model_already_centred_keeps_an_offset_near_zero() -> None:
    predicted = np.array([0.4, 0.3, -0.3, -0.4])
    signs = np.array([1.0, 1.0, -1.0, -1.0])
    assert sign_offset(predicted, signs) == pytest.approx(0.0, abs=OFFSET_STEP)


def test_of_equally_long_best_runs_the_one_nearest_zero_is_taken() -> None:
    # Three of four items are on their side for offsets in [0.1, 0.2) and in [-0.4, -0.3), two
    # elsewhere: two equally long best runs, centred at 0.125 and -0.375 on a 0.05 grid.
    predicted = np.array([-0.1, -0.2, 0.4, 0.3])
    signs = np.array([1.0, -1.0, 1.0, -1.0])
    assert sign_accuracy(predicted + 0.125, signs) == 0.75
    assert sign_accuracy(predicted - 0.375, signs) == 0.75
    assert sign_offset(predicted, signs, step=0.05, limit=0.5) == pytest.approx(0.125)


def test_an_offset_that_cannot_help_is_not_invented() -> None:
    # Positives and negatives interleave: no offset beats the one that is already best at 0.
    predicted = np.array([-0.2, -0.1, 0.1, 0.2])
    signs = np.array([-1.0, 1.0, -1.0, 1.0])
    offset = sign_offset(predicted, signs)
    assert sign_accuracy(predicted + offset, signs) == max(
        sign_accuracy(predicted + o, signs) for o in np.arange(-0.5, 0.5, 0.01)
    )
