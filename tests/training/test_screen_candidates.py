"""The screening script's inputs for context ideas and its out-of-fold offset choice
(scripts/screen_candidates.py), on made-up per-excerpt statistics."""

from __future__ import annotations

from dataclasses import replace
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from tests.file_modules import load_file_module

HOPS, WIDTH = 30, 138


@pytest.fixture(scope="module")
def screen() -> ModuleType:
    return load_file_module("scripts/screen_candidates.py", "screen_candidates")


def _item(screen: ModuleType, index: int, side: str, rng: np.random.Generator) -> Any:
    quadrant_signs = np.array([1.0 if index % 2 else -1.0, 1.0 if index % 3 else -1.0])
    stats = rng.normal(size=(HOPS, WIDTH)) + 0.5 * np.repeat(quadrant_signs, WIDTH // 2)
    return screen.ItemStats(
        set_name="4q_panda",
        item_id=f"clip{index}",
        group=f"artist{index // 2}",
        side=side,
        sign=True,
        confidence=1.0,
        label_rows=np.arange(0, HOPS, 3),
        targets=np.tile(quadrant_signs, (HOPS // 3, 1)),
        stats=stats,
        clip=np.zeros(137),
    )


def test_both_contexts_put_the_excerpt_and_its_12_s_mean_side_by_side(screen: ModuleType) -> None:
    item = _item(screen, 0, "train", np.random.default_rng(0))
    inputs = screen.idea_inputs(item, screen.IDEAS["wide_contexts_3s_12s"])
    assert inputs.shape == (HOPS, 2 * WIDTH)
    np.testing.assert_array_equal(inputs[:, :WIDTH], item.stats)
    # Hop 20 averages itself and the excerpts 3, 6 and 9 s (6, 12, 18 hops) before it; hop 4
    # has no earlier excerpt and is its own context.
    np.testing.assert_allclose(inputs[20, WIDTH:], item.stats[[20, 14, 8, 2]].mean(axis=0))
    np.testing.assert_array_equal(inputs[4, WIDTH:], item.stats[4])
    six_seconds = screen.idea_inputs(item, screen.IDEAS["wide_contexts_3s_6s"])
    np.testing.assert_allclose(six_seconds[20, WIDTH:], item.stats[[20, 14]].mean(axis=0))


def test_spread_measures_the_longest_context(screen: ModuleType) -> None:
    item = _item(screen, 0, "train", np.random.default_rng(1))
    inputs = screen.idea_inputs(item, screen.IDEAS["context4_spread"])
    means = item.stats[[20, 14, 8, 2], :68]
    assert inputs.shape == (HOPS, WIDTH + 68)
    np.testing.assert_allclose(inputs[20, WIDTH:], np.abs(means - means.mean(axis=0)).mean(axis=0))


def test_offsets_are_chosen_without_looking_at_validation(screen: ModuleType) -> None:
    rng = np.random.default_rng(2)
    training = [_item(screen, i, "train", rng) for i in range(20)]
    validation = [_item(screen, 20 + i, "validation", rng) for i in range(6)]
    idea = screen.IDEAS["wide_out_of_fold_offsets"]
    chosen = screen.out_of_fold_offsets(training + validation, idea, members=1, epochs=2)
    # Validation items with the opposite labels and other statistics change nothing.
    flipped = [replace(i, targets=-i.targets, stats=i.stats[::-1] * 3.0) for i in validation]
    again = screen.out_of_fold_offsets(training + flipped, idea, members=1, epochs=2)
    assert again == chosen
    assert chosen["items"] == len(training)
    for axis in range(2):
        assert chosen["sign_accuracy_with"][axis] >= chosen["sign_accuracy_without"][axis]


def test_temporal_ideas_add_their_statistics_after_the_excerpt_s(screen: ModuleType) -> None:
    rng = np.random.default_rng(3)
    features, levels = rng.normal(size=(HOPS, 60, 68)), rng.normal(size=(HOPS, 60))
    temporal = screen.temporal_statistics(features, levels)
    item = replace(_item(screen, 0, "train", rng), temporal=temporal)
    assert temporal["dynamics"].shape == (HOPS, 68)
    assert temporal["pulse"].shape == (HOPS, 15)  # 3 envelopes x (clarity + 4 fixed lags)
    # Clarity only: the first column of each envelope's five.
    np.testing.assert_array_equal(temporal["pulse_clarity"], temporal["pulse"][:, [0, 5, 10]])
    both = screen.idea_inputs(item, screen.IDEAS["wide_dynamics_pulse"])
    np.testing.assert_array_equal(
        both, np.concatenate([item.stats, temporal["dynamics"], temporal["pulse"]], axis=1)
    )
    pulse = screen.idea_inputs(item, screen.IDEAS["wide_pulse"])
    np.testing.assert_array_equal(pulse[:, WIDTH:], temporal["pulse"])
    np.testing.assert_array_equal(screen.idea_inputs(item, screen.IDEAS["wide"]), item.stats)
