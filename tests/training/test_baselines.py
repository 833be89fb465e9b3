"""The non-neural rows of Table 2: the expected value reproduced from the real labels of all 744
songs, and both rows as scikit-learn estimators (DummyRegressor, the SVR pipeline)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from sklearn.dummy import DummyRegressor
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVR

from tests.data_paths import EMOMUSIC_DIR, REPO_ROOT, needs_data, require_data
from training.baselines import FrameStatistics, expected_value_variants, svr_pipeline
from training.dataset import EmoMusicDataset
from training.evaluate import score
from training.targets import target_columns, target_matrix


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


def test_dummy_regressor_reproduces_table_2_expected_value(
    variants: dict[str, dict[str, float]],
) -> None:
    """The study's row as it is now computed: DummyRegressor(strategy="mean") fitted on the
    training part's (excerpt, 2) target matrix, scored pooled over the evaluation excerpts."""
    dataset = EmoMusicDataset.load(require_data(EMOMUSIC_DIR))
    splits = dataset.splits()

    def matrix(song_ids: tuple[int, ...]) -> np.ndarray:
        return target_matrix(
            {t: dataset.labels(song_ids, t).ravel() for t in ("valence", "arousal")}
        )

    train, evaluation = matrix(splits.train), matrix(splits.evaluation)
    # The expected value never looks at its input: one placeholder column per excerpt.
    model = DummyRegressor(strategy="mean").fit(np.zeros((len(train), 1)), train)
    predicted = target_columns(model.predict(np.zeros((len(evaluation), 1))))
    annotated = target_columns(evaluation)
    rmse = {t: score(predicted[t], annotated[t]).rmse for t in predicted}
    assert round(rmse["arousal"], 4) == 0.2870
    assert round(rmse["valence"], 4) == 0.2315
    label_only = variants["mean of train (495), pooled per frame"]
    for target in ("arousal", "valence"):
        assert rmse[target] == pytest.approx(label_only[target], rel=1e-12)


def test_frame_statistics_are_each_features_mean_then_std_over_frames() -> None:
    rng = np.random.default_rng(1)
    sequences = rng.normal(size=(5, 60, 68)).astype(np.float32)
    statistics = FrameStatistics().fit_transform(sequences)
    assert statistics.shape == (5, 136)
    data = sequences.astype(np.float64)
    np.testing.assert_array_equal(statistics[:, :68], data.mean(axis=1))
    np.testing.assert_array_equal(statistics[:, 68:], data.std(axis=1))


def test_frame_statistics_need_fit_and_refuse_another_extractors_width() -> None:
    sequences = np.zeros((4, 60, 68))
    with pytest.raises(NotFittedError):
        FrameStatistics().transform(sequences)
    fitted = FrameStatistics().fit(sequences)
    assert fitted.n_features_in_ == 68
    with pytest.raises(ValueError, match="34 features per frame, fitted on 68"):
        fitted.transform(np.zeros((4, 60, 34)))
    with pytest.raises(ValueError, match="frames, features"):
        fitted.transform(np.zeros((4, 68)))


def test_frame_statistics_name_their_outputs_through_the_pipeline() -> None:
    pipeline = svr_pipeline().fit(
        np.random.default_rng(3).normal(size=(12, 60, 68)), np.zeros((12, 2))
    )
    names = pipeline[:-1].get_feature_names_out()
    assert len(names) == 136
    assert (names[0], names[67], names[68], names[135]) == (
        "mean_x0",
        "mean_x67",
        "std_x0",
        "std_x67",
    )
    short = FrameStatistics().fit(np.zeros((2, 60, 2)))
    assert short.get_feature_names_out(["zcr", "energy"]).tolist() == [
        "mean_zcr",
        "mean_energy",
        "std_zcr",
        "std_energy",
    ]
    with pytest.raises(ValueError, match="1 feature names for 2 features"):
        short.get_feature_names_out(["zcr"])


def test_svr_learns_a_feature_relation_the_mean_cannot() -> None:
    rng = np.random.default_rng(0)
    latent = rng.uniform(-2, 2, size=300)
    sequences = rng.normal(size=(300, 60, 68)) + latent[:, None, None]
    targets = np.stack([np.tanh(latent / 2), -latent / 3], axis=1)
    model = svr_pipeline().fit(sequences[:200], targets[:200])
    predicted = model.predict(sequences[200:])
    assert predicted.shape == (100, 2)
    for column in range(2):
        truth = targets[200:, column]
        svr_error = np.sqrt(np.mean((predicted[:, column] - truth) ** 2))
        mean_error = np.sqrt(np.mean((targets[:200, column].mean() - truth) ** 2))
        assert svr_error < 0.6 * mean_error


def test_svr_pipeline_equals_one_study_svr_per_target() -> None:
    """Per target, the pipeline gives exactly what the study's recipe gives on its own (and gave
    before it was a pipeline): StandardScaler + SVR(rbf, C=0.1) fitted on that target alone."""
    rng = np.random.default_rng(2)
    sequences = rng.normal(size=(120, 60, 68)).astype(np.float32)
    targets = rng.uniform(-0.5, 0.5, size=(120, 2))
    pipeline = svr_pipeline().fit(sequences[:80], targets[:80])
    svrs = pipeline.named_steps["svr"].estimators_
    assert [(svr.kernel, svr.C) for svr in svrs] == [("rbf", 0.1), ("rbf", 0.1)]
    statistics = FrameStatistics().fit_transform(sequences)
    predicted = pipeline.predict(sequences[80:])
    for column in range(2):
        alone = make_pipeline(StandardScaler(), SVR(kernel="rbf", C=0.1))
        alone.fit(statistics[:80], targets[:80, column])
        np.testing.assert_array_equal(predicted[:, column], alone.predict(statistics[80:]))


def test_scores_of_a_constant_prediction() -> None:
    annotated = np.array([0.1, 0.3, -0.2, 0.4])
    scores = score(np.full(4, 0.15), annotated)
    assert np.isnan(scores.pearson_r)
    assert scores.rmse == pytest.approx(np.sqrt(np.mean((annotated - 0.15) ** 2)))
    assert scores.r2 == pytest.approx(0.0)
