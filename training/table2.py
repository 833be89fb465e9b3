"""Table 2 as data: one row per model, each a scikit-learn estimator fitted afresh for every run.

A row names its estimator (a template, never fitted itself: every run fits a `clone`), the part of
the development songs it learns from, how many runs it has and the seed of the first. Because each
row is a plain estimator on (n, 60, 68) sequences and an (n, 2) target matrix, scikit-learn's tools
take it as it is: ``cross_val_score(row.estimator, X, y)`` works for every row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from sklearn.base import clone
from sklearn.dummy import DummyRegressor

from .baselines import svr_pipeline
from .config import StudySettings
from .evaluate import ModelResult, Scores, score
from .features import Examples
from .gru import GRUEnsembleRegressor
from .targets import target_columns, target_matrix

TrainingPart = Literal["train", "development"]
# Ensemble runs draw their seeds from a range of their own, so no ensemble network repeats a
# single network's initialisation.
ENSEMBLE_SEED_OFFSET = 1000


@dataclass(frozen=True)
class StudyRow:
    """One row of Table 2."""

    name: str
    estimator: Any  # a scikit-learn estimator (the library ships no types)
    training_part: TrainingPart
    runs: int = 1
    # Run k sets the estimator's `seed_parameter` to first_seed + k; None: the estimator is
    # deterministic, runs once per seed-less run and is recorded with seed 0.
    first_seed: int | None = None
    seed_parameter: str = "seed"
    exported: bool = False

    def seeds(self) -> list[int]:
        if self.first_seed is None:
            return [0] * self.runs
        return [self.first_seed + run for run in range(self.runs)]

    def estimator_for(self, seed: int) -> Any:
        """A fresh, unfitted copy of the template, seeded for this run."""
        estimator = clone(self.estimator)
        if self.first_seed is not None:
            estimator.set_params(**{self.seed_parameter: seed})
        return estimator


def table2_rows(settings: StudySettings, *, progress: bool = True) -> tuple[StudyRow, ...]:
    """The study's rows: the expected value and the SVR learn from the training part only, the
    networks from all development songs (train + validation), as in the study."""
    return (
        StudyRow("Expected value", DummyRegressor(strategy="mean"), "train"),
        StudyRow("SVR", svr_pipeline(), "train"),
        StudyRow(
            "Single parallel NN",
            GRUEnsembleRegressor(settings.gru, size=1, progress=progress),
            "development",
            runs=settings.runs,
            first_seed=settings.seed,
        ),
        StudyRow(
            "Ensemble",
            GRUEnsembleRegressor(settings.gru, size=settings.ensemble_size, progress=progress),
            "development",
            runs=settings.ensemble_runs,
            first_seed=settings.seed + ENSEMBLE_SEED_OFFSET,
            exported=True,
        ),
    )


@dataclass
class RowOutcome:
    """The scores of every run of a row, and its first run's model and evaluation predictions."""

    row: StudyRow
    result: ModelResult
    first_model: Any = None
    first_predictions: dict[str, NDArray[np.float64]] | None = None


def scores_by_target(
    predicted: dict[str, NDArray[np.float64]], examples: Examples
) -> dict[str, Scores]:
    return {t: score(predicted[t], examples.labels[t]) for t in predicted}


def run_row(
    row: StudyRow,
    training: Examples,
    evaluation: Examples,
    report: Callable[[str], None],
) -> RowOutcome:
    """Fit a clone per run on `training`, score it on `evaluation`."""
    outcome = RowOutcome(row, ModelResult(row.name))
    targets = target_matrix(training.labels)
    for run, seed in enumerate(row.seeds()):
        seeded = f" (seed {seed})" if row.first_seed is not None else ""
        report(f"{row.name} run {run + 1}/{row.runs}{seeded} ...")
        model = row.estimator_for(seed).fit(training.features, targets)
        predicted = target_columns(model.predict(evaluation.features))
        outcome.result.add(scores_by_target(predicted, evaluation), seed)
        if outcome.first_model is None:
            # The first run is the one exported: chosen by seed, never by its evaluation score.
            outcome.first_model, outcome.first_predictions = model, predicted
    return outcome
