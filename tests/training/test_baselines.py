"""The expected-value row of Table 2, reproduced from the real labels of all 744 songs."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from tests.data_paths import EMOMUSIC_DIR, REPO_ROOT, needs_data, require_data
from training.baselines import (
    ExpectedValueRegressor,
    SVRRegressor,
    expected_value_variants,
    summary_statistics,
)
from training.dataset import EmoMusicDataset
from training.evaluate import score


@pytest.fixture(scope="module")
def variants() -> dict[str, dict[str, float]]:
    dataset = EmoMusicDataset.load(require_data(EMOMUSIC_DIR))
    return {v.name: v.rmse for v in expected_value_variants(dataset, dataset.splits())}


def test_training_split_mean_pooled_reproduces_table_2(
    variants: dict[str, dict[str, float]],
) -> None:
    rmse = variants["mean of train (495), pooled per frame"]
    assert round(rmse["arousal"], 4) == 0.2870
    assert round(rmse["valence"], 4) == 0.2315


def test_other_readings_do_not(variants: dict[str, dict[str, float]]) -> None:
    development = variants["mean of development (619), pooled per frame"]
    assert round(development["arousal"], 4) == 0.2870
    assert round(development["valence"], 4) == 0.2324
    per_song = variants["mean of train (495), per song"]
    assert round(per_song["arousal"], 4) == 0.2472
    assert round(per_song["valence"], 4) == 0.1932


@needs_data(EMOMUSIC_DIR / "annotations")
def test_baseline_command_needs_no_audio() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "training", "baseline", "--dataset", str(EMOMUSIC_DIR)],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO_ROOT,
    )
    assert "| mean of train (495), pooled per frame | 0.2870 | 0.2315 | both |" in completed.stdout


def test_expected_value_regressor_predicts_the_training_mean() -> None:
    model = ExpectedValueRegressor().fit(None, np.array([0.1, 0.3, -0.1]))
    assert model.predict(np.zeros((4, 60, 68))).tolist() == pytest.approx([0.1] * 4)


def test_svr_learns_a_feature_relation_the_mean_cannot() -> None:
    rng = np.random.default_rng(0)
    latent = rng.uniform(-2, 2, size=300)
    sequences = rng.normal(size=(300, 60, 68)) + latent[:, None, None]
    targets = np.tanh(latent / 2)
    assert summary_statistics(sequences).shape == (300, 136)
    model = SVRRegressor().fit(sequences[:200], targets[:200])
    svr_error = np.sqrt(np.mean((model.predict(sequences[200:]) - targets[200:]) ** 2))
    mean_error = np.sqrt(np.mean((targets[:200].mean() - targets[200:]) ** 2))
    assert svr_error < 0.6 * mean_error


def test_scores_of_a_constant_prediction() -> None:
    annotated = np.array([0.1, 0.3, -0.2, 0.4])
    scores = score(np.full(4, 0.15), annotated)
    assert np.isnan(scores.pearson_r)
    assert scores.rmse == pytest.approx(np.sqrt(np.mean((annotated - 0.15) ** 2)))
    assert scores.r2 == pytest.approx(0.0)
