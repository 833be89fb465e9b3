"""Table 2 as a declarative table of scikit-learn estimators, and the loop that runs its rows."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.dummy import DummyRegressor
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import Pipeline

from training.config import GRUSettings, StudySettings
from training.evaluate import score
from training.features import Examples
from training.gru import GRUEnsembleRegressor
from training.table2 import StudyRow, run_row, table2_rows

TINY = GRUSettings(hidden_size=4, fc_sizes=(4, 4), epochs=1, batch_size=16)
SETTINGS = StudySettings(runs=3, ensemble_runs=2, ensemble_size=4, seed=5, gru=TINY)


@pytest.fixture(autouse=True)
def one_torch_thread() -> None:
    torch.set_num_threads(1)


def _examples(n: int, seed: int) -> Examples:
    rng = np.random.default_rng(seed)
    latent = rng.uniform(-1, 1, size=n)
    features = (rng.normal(size=(n, 8, 5)) + latent[:, None, None]).astype(np.float32)
    return Examples(
        features=features,
        labels={"valence": np.tanh(latent), "arousal": -0.5 * latent},
        song_ids=np.arange(n, dtype=np.int64) // 10,
        times_s=np.zeros(n),
    )


def test_the_rows_of_the_study() -> None:
    rows = table2_rows(SETTINGS, progress=False)
    assert [(r.name, r.training_part, r.runs, r.exported) for r in rows] == [
        ("Expected value", "train", 1, False),
        ("SVR", "train", 1, False),
        ("Single parallel NN", "development", 3, False),
        ("Ensemble", "development", 2, True),
    ]
    expected, svr, single, ensemble = rows
    assert isinstance(expected.estimator, DummyRegressor)
    assert expected.estimator.strategy == "mean"
    assert isinstance(svr.estimator, Pipeline)
    assert [step for step, _ in svr.estimator.steps] == ["frame_statistics", "standardise", "svr"]
    # The seeds of earlier runs: single run k uses seed + k, ensemble run k seed + 1000 + k.
    assert [r.seeds() for r in rows] == [[0], [0], [5, 6, 7], [1005, 1006]]
    assert single.estimator.get_params()["size"] == 1
    assert ensemble.estimator.get_params()["size"] == 4
    assert ensemble.estimator.get_params()["settings"] == TINY


def test_every_run_fits_a_seeded_clone_and_never_the_template() -> None:
    row = table2_rows(SETTINGS, progress=False)[3]
    fitted = row.estimator_for(1006)
    assert fitted is not row.estimator
    assert isinstance(fitted, GRUEnsembleRegressor)
    assert fitted.seed == 1006
    assert row.estimator.seed == 0
    unseeded = table2_rows(SETTINGS, progress=False)[0]
    assert unseeded.estimator_for(0).get_params() == unseeded.estimator.get_params()


def test_run_row_scores_each_run_on_the_evaluation_examples() -> None:
    training, evaluation = _examples(60, 1), _examples(30, 2)
    messages: list[str] = []
    row = StudyRow("Expected value", DummyRegressor(strategy="mean"), "train", runs=2)
    outcome = run_row(row, training, evaluation, messages.append)
    assert messages == ["Expected value run 1/2 ...", "Expected value run 2/2 ..."]
    assert outcome.result.seeds == [0, 0]
    for target in ("valence", "arousal"):
        constant = np.full(30, training.labels[target].mean())
        expected = score(constant, evaluation.labels[target])
        scores = outcome.result.runs[0][target]
        # DummyRegressor sums the target matrix column-wise, not pairwise: the last bits differ.
        assert scores.rmse == pytest.approx(expected.rmse, rel=1e-12)
        assert scores.r2 == pytest.approx(expected.r2, rel=1e-9, abs=1e-12)
        assert np.isnan(scores.pearson_r)
    assert outcome.first_predictions is not None
    np.testing.assert_allclose(
        outcome.first_predictions["arousal"], training.labels["arousal"].mean()
    )
    assert not hasattr(row.estimator, "constant_")


def test_run_row_keeps_the_first_seeded_run_for_export() -> None:
    training, evaluation = _examples(48, 3), _examples(16, 4)
    row = table2_rows(SETTINGS, progress=False)[3]
    messages: list[str] = []
    outcome = run_row(row, training, evaluation, messages.append)
    assert messages == ["Ensemble run 1/2 (seed 1005) ...", "Ensemble run 2/2 (seed 1006) ..."]
    assert outcome.result.seeds == [1005, 1006]
    assert isinstance(outcome.first_model, GRUEnsembleRegressor)
    assert outcome.first_model.seed == 1005
    assert outcome.first_model.seeds_["valence"] == [1005000, 1005001, 1005002, 1005003]


@pytest.mark.parametrize("index", range(4))
def test_every_row_works_with_cross_val_score(index: int) -> None:
    row = table2_rows(SETTINGS, progress=False)[index]
    examples = _examples(60, 5)
    targets = np.stack([examples.labels["valence"], examples.labels["arousal"]], axis=1)
    scores = cross_val_score(
        row.estimator, examples.features, targets, cv=3, scoring="neg_root_mean_squared_error"
    )
    assert scores.shape == (3,)
    assert np.all(np.isfinite(scores))
    assert np.all(scores < 0)
