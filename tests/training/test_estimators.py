"""Every estimator of Table 2 keeps scikit-learn's estimator protocol.

sklearn's own checks that need no fitting run as they are; the fitting ones feed 2-D tables, which
these estimators refuse by design (they read (n, frames, features) sequences), so the same rules
are checked here on sequences: fit returns self and leaves the parameters alone, fitted state lives
only in attributes ending in "_", a seed makes a fit repeatable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils import estimator_checks

from training.baselines import FrameStatistics, svr_pipeline
from training.config import GRUSettings
from training.gru import GRUEnsembleRegressor

TINY = GRUSettings(hidden_size=4, fc_sizes=(4, 4), epochs=1, batch_size=16)

ESTIMATORS: dict[str, Callable[[], Any]] = {
    "frame_statistics": FrameStatistics,
    "svr_pipeline": svr_pipeline,
    "gru_ensemble": lambda: GRUEnsembleRegressor(TINY, size=2, seed=3, progress=False),
}
UNFITTED_CHECKS = (
    "check_no_attributes_set_in_init",
    "check_get_params_invariance",
    "check_set_params",
    "check_parameters_default_constructible",
    "check_estimator_cloneable",
    "check_estimator_repr",
    "check_do_not_raise_errors_in_init_or_set_params",
    "check_mixin_order",
    "check_valid_tag_types",
    "check_estimator_tags_renamed",
    "check_estimators_unfitted",
    "check_transformers_unfitted",
)


@pytest.fixture(autouse=True)
def one_torch_thread() -> None:
    torch.set_num_threads(1)


def _sequences(n: int = 48, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    latent = rng.uniform(-1, 1, size=n)
    sequences = (rng.normal(size=(n, 8, 5)) + latent[:, None, None]).astype(np.float32)
    return sequences, np.stack([np.tanh(latent), -0.5 * latent], axis=1)


@pytest.mark.parametrize("check", UNFITTED_CHECKS)
@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_sklearn_checks_without_fitting(name: str, check: str) -> None:
    getattr(estimator_checks, check)(name, ESTIMATORS[name]())


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_fit_returns_self_and_leaves_the_parameters_alone(name: str) -> None:
    estimator = ESTIMATORS[name]()
    # repr shows an estimator's parameters, never its fitted state: pipeline steps are fitted in
    # place and must still read the same.
    before = {key: repr(value) for key, value in estimator.get_params(deep=True).items()}
    sequences, targets = _sequences()
    assert estimator.fit(sequences, targets) is estimator
    after = {key: repr(value) for key, value in estimator.get_params(deep=True).items()}
    assert after == before


@pytest.mark.parametrize("name", ["frame_statistics", "gru_ensemble"])
def test_fitted_state_lives_only_in_attributes_ending_in_underscore(name: str) -> None:
    estimator = ESTIMATORS[name]()
    before = set(vars(estimator))
    estimator.fit(*_sequences())
    added = set(vars(estimator)) - before
    assert added
    assert all(attribute.endswith("_") for attribute in added), added


def test_gru_ensemble_predicts_one_column_per_target_and_needs_fit() -> None:
    sequences, targets = _sequences()
    model = GRUEnsembleRegressor(TINY, size=2, seed=3, progress=False)
    with pytest.raises(NotFittedError):
        model.predict(sequences)
    predicted = model.fit(sequences, targets).predict(sequences[:7])
    assert predicted.shape == (7, 2)
    assert predicted.dtype == np.float64
    assert np.all(np.abs(predicted) <= 1)  # tanh outputs
    assert [len(model.networks_[t]) for t in ("valence", "arousal")] == [2, 2]
    assert model.seeds_ == {"valence": [3000, 3001], "arousal": [3100, 3101]}


def test_gru_ensemble_refuses_targets_of_another_shape() -> None:
    sequences, targets = _sequences()
    model = GRUEnsembleRegressor(TINY, size=1, progress=False)
    with pytest.raises(ValueError, match=r"one column per target \('valence', 'arousal'\)"):
        model.fit(sequences, targets[:, 0])
    with pytest.raises(ValueError, match="y must be"):
        model.fit(sequences, targets[:-1])
    targets[4, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        model.fit(sequences, targets)
    with pytest.raises(ValueError, match="sequences"):
        model.fit(sequences[:, 0, :], targets)


def test_gru_ensemble_seed_is_a_parameter_that_makes_fits_repeatable() -> None:
    sequences, targets = _sequences()
    template = GRUEnsembleRegressor(TINY, size=1, seed=0, progress=False)
    first = clone(template).set_params(seed=11).fit(sequences, targets)
    again = clone(template).set_params(seed=11).fit(sequences, targets)
    other = clone(template).set_params(seed=12).fit(sequences, targets)
    np.testing.assert_array_equal(first.predict(sequences), again.predict(sequences))
    assert not np.array_equal(first.predict(sequences), other.predict(sequences))
    assert template.seed == 0
    assert not hasattr(template, "networks_")


def test_gru_ensemble_params_round_trip_through_clone_and_set_params() -> None:
    model = GRUEnsembleRegressor(TINY, size=3, seed=5, progress=False)
    params = model.get_params()
    assert params == {"settings": TINY, "size": 3, "seed": 5, "progress": False}
    copy = clone(model)
    assert copy is not model
    assert copy.get_params() == params
    wider = GRUSettings(hidden_size=8, epochs=2)
    copy.set_params(settings=wider, size=1)
    assert copy.get_params() == {"settings": wider, "size": 1, "seed": 5, "progress": False}
    assert model.get_params() == params
    assert GRUEnsembleRegressor().network_settings() == GRUSettings()
