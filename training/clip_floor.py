"""The clip-level floor: an RBF SVM on whole-clip feature statistics and the clip's RMS level.

A calibration, not a live model: it sees a whole clip at once (the live model sees 3 s excerpts),
so it tells whether a validation split is hard in itself or the excerpt model is weak on it.
Inputs per clip: the mean and standard deviation of each of the 68 features over the frames of the
clip's non-overlapping excerpts (every sixth 0.5 s hop: each frame once, each excerpt normalised on
its own as live), plus the clip's RMS level in dBFS from the raw frame levels. The SVM predicts the
quadrant (4 classes); the per-axis signs follow from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from .config import HOP_S, SEQUENCE_LENGTH
from .datasets import LabelledItem
from .excerpt_cache import cached_excerpts
from .features import frame_grid

# Excerpts that touch end to end: 3 s apart on the 0.5 s hop grid.
EXCERPT_STRIDE = round(
    frame_grid().excerpt_samples(SEQUENCE_LENGTH) / frame_grid().sample_rate / HOP_S
)


@dataclass(frozen=True)
class ClipSet:
    inputs: NDArray[np.float64]  # (clips, 68 + 68 + 1): feature means, stds, level dBFS
    quadrant: NDArray[np.int64]  # (clips,) 1..4
    item_ids: list[str]


def clip_inputs(features: NDArray[np.float32], levels: NDArray[np.float32]) -> NDArray[np.float64]:
    """Whole-clip statistics from one file's hop excerpts (features (n, 60, 68), levels (n, 60))."""
    chosen = np.arange(0, len(features), EXCERPT_STRIDE)
    frames = features[chosen].reshape(-1, features.shape[-1]).astype(np.float64)
    power = 10.0 ** (levels[chosen].astype(np.float64) / 10.0)
    level_db = 10.0 * np.log10(max(float(power.mean()), 1e-10))
    return np.concatenate([frames.mean(axis=0), frames.std(axis=0), [level_db]])


def quadrant_of(valence: NDArray[np.float64], arousal: NDArray[np.float64]) -> NDArray[np.int64]:
    """Russell quadrant: Q1 (+v, +a), Q2 (-v, +a), Q3 (-v, -a), Q4 (+v, -a)."""
    upper = np.where(valence > 0, 1, 2)
    lower = np.where(valence > 0, 4, 3)
    return np.where(arousal > 0, upper, lower).astype(np.int64)


def clip_set(items: Sequence[LabelledItem], excerpt_cache: Path) -> ClipSet:
    inputs, labels = [], []
    for item in items:
        excerpts = cached_excerpts(item.audio, excerpt_cache)
        inputs.append(clip_inputs(excerpts.features, excerpts.levels))
        labels.append(np.nanmean(item.targets, axis=0))
    label = np.array(labels)
    return ClipSet(
        np.array(inputs), quadrant_of(label[:, 0], label[:, 1]), [i.item_id for i in items]
    )


def fit_floor(train: ClipSet, *, c: float = 1.0, with_level: bool = True) -> Pipeline:
    columns = train.inputs if with_level else train.inputs[:, :-1]
    model = make_pipeline(StandardScaler(), SVC(C=c, kernel="rbf", gamma="scale"))
    return model.fit(columns, train.quadrant)


def floor_figures(
    model: Pipeline, clips: ClipSet, *, with_level: bool = True, gain_db: float = 0.0
) -> dict[str, float]:
    """Quadrant and per-axis sign accuracy; ``gain_db`` shifts the level as a gain change would."""
    columns = clips.inputs.copy()
    columns[:, -1] += gain_db
    predicted = model.predict(columns if with_level else columns[:, :-1])
    positive_valence = np.isin(predicted, (1, 4))
    positive_arousal = np.isin(predicted, (1, 2))
    return {
        "quadrant": float(np.mean(predicted == clips.quadrant)),
        "arousal_sign": float(np.mean(positive_arousal == np.isin(clips.quadrant, (1, 2)))),
        "valence_sign": float(np.mean(positive_valence == np.isin(clips.quadrant, (1, 4)))),
        "n": float(len(clips.quadrant)),
    }
