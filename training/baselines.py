"""The two non-neural rows of Table 2: the expected value and the SVR."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVR

from .dataset import EmoMusicDataset, Splits


class ExpectedValueRegressor:
    """Predicts the training-set mean of the target for every example."""

    def __init__(self) -> None:
        self.mean_: float | None = None

    def fit(self, features: object, targets: NDArray[np.floating]) -> ExpectedValueRegressor:
        del features  # the expected value ignores the input by definition
        self.mean_ = float(np.mean(targets))
        return self

    def predict(self, features: NDArray[np.floating]) -> NDArray[np.float64]:
        if self.mean_ is None:
            raise RuntimeError("fit() first")
        return np.full(len(features), self.mean_, dtype=np.float64)


def summary_statistics(sequences: NDArray[np.floating]) -> NDArray[np.float64]:
    """(n, 60, 68) -> (n, 136): mean then standard deviation of each feature over the frames."""
    data = np.asarray(sequences, dtype=np.float64)
    return np.concatenate([data.mean(axis=1), data.std(axis=1)], axis=1)


class SVRRegressor:
    """RBF SVR with C=0.1 on standardised per-excerpt feature means and standard deviations."""

    def __init__(self, c: float = 0.1, kernel: str = "rbf") -> None:
        self.c = c
        self.kernel = kernel
        self.pipeline_: object | None = None

    def fit(self, sequences: NDArray[np.floating], targets: NDArray[np.floating]) -> SVRRegressor:

        pipeline = make_pipeline(StandardScaler(), SVR(kernel=self.kernel, C=self.c))
        pipeline.fit(summary_statistics(sequences), np.asarray(targets, dtype=np.float64))
        self.pipeline_ = pipeline
        return self

    def predict(self, sequences: NDArray[np.floating]) -> NDArray[np.float64]:
        if self.pipeline_ is None:
            raise RuntimeError("fit() first")
        predicted = self.pipeline_.predict(summary_statistics(sequences))  # type: ignore[attr-defined]
        return np.asarray(predicted, dtype=np.float64)


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
