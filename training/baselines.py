"""The two non-neural rows of Table 2 as scikit-learn estimators, and the label-only readings.

The expected value is `DummyRegressor(strategy="mean")`; the SVR is `svr_pipeline()`. Both take the
(n, 60, 68) excerpt sequences as X and the (n, 2) target matrix of `targets.target_matrix` as y,
like the GRU ensemble, so every row of the study fits the same data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.multioutput import MultiOutputRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVR
from sklearn.utils.validation import check_is_fitted

from .dataset import EmoMusicDataset, Splits

# The study's SVR: RBF kernel, C = 0.1 (its other settings are scikit-learn's defaults).
SVR_KERNEL = "rbf"
SVR_C = 0.1


def _sequences(sequences: object) -> NDArray[np.float64]:
    data = np.asarray(sequences, dtype=np.float64)
    if data.ndim != 3 or data.shape[1] == 0:
        raise ValueError(f"expected (n, frames, features) sequences, got shape {data.shape}")
    return data


class FrameStatistics(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """(n, frames, features) -> (n, 2 * features): each feature's mean, then its standard
    deviation, over the frames. Nothing is learnt; `fit` records the features per frame
    (`n_features_in_`) so that `transform` refuses sequences of another extractor."""

    def fit(self, sequences: object, targets: object = None) -> FrameStatistics:
        del targets  # unsupervised, and stateless apart from the input width
        self.n_features_in_ = _sequences(sequences).shape[2]
        return self

    def transform(self, sequences: object) -> NDArray[np.float64]:
        check_is_fitted(self)
        data = _sequences(sequences)
        if data.shape[2] != self.n_features_in_:
            raise ValueError(
                f"sequences have {data.shape[2]} features per frame, "
                f"fitted on {self.n_features_in_}"
            )
        return np.concatenate([data.mean(axis=1), data.std(axis=1)], axis=1)

    def get_feature_names_out(self, input_features: object = None) -> NDArray[np.object_]:
        """ "mean_<feature>" for each feature, then "std_<feature>" (x0, x1, ... if unnamed)."""
        check_is_fitted(self)
        if input_features is None:
            names = [f"x{k}" for k in range(self.n_features_in_)]
        else:
            names = [str(name) for name in np.asarray(input_features).ravel()]
            if len(names) != self.n_features_in_:
                raise ValueError(f"{len(names)} feature names for {self.n_features_in_} features")
        return np.asarray(
            [f"mean_{name}" for name in names] + [f"std_{name}" for name in names], dtype=object
        )


def svr_pipeline(c: float = SVR_C) -> Pipeline:
    """Frame statistics (136 inputs) -> standardised -> one RBF SVR per target."""
    return Pipeline(
        [
            ("frame_statistics", FrameStatistics()),
            ("standardise", StandardScaler()),
            ("svr", MultiOutputRegressor(SVR(kernel=SVR_KERNEL, C=c))),
        ]
    )


@dataclass(frozen=True)
class ExpectedValueVariant:
    """One way of computing the expected-value row, with the RMSE it gives per target."""

    name: str
    training_songs: int
    aggregation: str
    rmse: dict[str, float]


def pooled_rmse(predicted: NDArray[np.floating], annotated: NDArray[np.floating]) -> float:
    return float(np.sqrt(np.mean((np.asarray(predicted) - np.asarray(annotated)) ** 2)))


def per_song_rmse(predicted: NDArray[np.floating], annotated: NDArray[np.floating]) -> float:
    """Mean over songs of each song's RMSE; arrays are (n_songs, 61)."""
    errors = (np.asarray(predicted) - np.asarray(annotated)) ** 2
    return float(np.mean(np.sqrt(errors.mean(axis=1))))


def expected_value_variants(dataset: EmoMusicDataset, splits: Splits) -> list[ExpectedValueVariant]:
    """Label-only expected-value RMSEs on the evaluation songs for the plausible readings."""
    variants = []
    for training_name, training_ids in (
        ("train (495)", splits.train),
        ("development (619)", splits.development),
    ):
        for aggregation, metric in (("pooled per frame", pooled_rmse), ("per song", per_song_rmse)):
            rmse = {}
            for target in ("arousal", "valence"):
                mean = float(dataset.labels(training_ids, target).mean())
                annotated = dataset.labels(splits.evaluation, target)
                rmse[target] = metric(np.full_like(annotated, mean), annotated)
            variants.append(
                ExpectedValueVariant(
                    name=f"mean of {training_name}, {aggregation}",
                    training_songs=len(training_ids),
                    aggregation=aggregation,
                    rmse=rmse,
                )
            )
    return variants
