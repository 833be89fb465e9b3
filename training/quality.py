"""Validation figures of a mood model, set by set, from per-excerpt predictions.

Every figure is about what a listener would call the item's mood: predictions of the 3 s excerpts
are averaged per item (clip, track, piece) before they are compared with the item's label, except
for the study's clips, whose 2 Hz labels are compared excerpt by excerpt.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

VALENCE, AROUSAL = 0, 1
SIGN_SETS = ("4q_panda", "emopia")
CORRELATION_SETS = ("emotify", "vgmidi")
CONTINUOUS_CLIP_SETS = ("emomusic_2013",)

# Goals of the issue on unseen music (figure key -> minimum).
GOALS: dict[str, dict[str, float]] = {
    "4q_panda": {"quadrant": 0.60, "arousal_sign": 0.90, "valence_sign": 0.70},
    "emotify": {"arousal_spearman": 0.70, "valence_spearman": 0.40},
    "vgmidi": {"arousal_spearman": 0.60, "valence_spearman": 0.50},
}


@dataclass(frozen=True)
class ItemPredictions:
    """One item's excerpt predictions and labels (both (n, 2): valence, arousal)."""

    item_id: str
    predictions: NDArray[np.float64]
    targets: NDArray[np.float64]


def _rank(values: NDArray[np.float64]) -> NDArray[np.float64]:
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(len(values), dtype=np.float64)
    # Ties share their mean rank (as scipy.stats.spearmanr does).
    for value in np.unique(values):
        tied = values == value
        if tied.sum() > 1:
            ranks[tied] = ranks[tied].mean()
    return ranks


def pearson(x: NDArray[np.float64], y: NDArray[np.float64]) -> float:
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    if len(x) < 2 or np.std(x) == 0 or np.std(y) == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


def spearman(x: NDArray[np.float64], y: NDArray[np.float64]) -> float:
    return pearson(_rank(np.asarray(x, np.float64)), _rank(np.asarray(y, np.float64)))


def _item_means(
    items: Sequence[ItemPredictions],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    predicted = np.array([np.nanmean(i.predictions, axis=0) for i in items])
    labels = np.array([np.nanmean(i.targets, axis=0) for i in items])
    return predicted, labels


def sign_figures(items: Sequence[ItemPredictions]) -> dict[str, float]:
    """Quadrant and per-axis sign accuracy of per-item mean predictions (labels are ±1)."""
    predicted, labels = _item_means(items)
    # A mean of exactly 0 (a constant model) counts as positive: it must commit to a side.
    signs = np.where(predicted >= 0, 1.0, -1.0)
    correct = signs == np.sign(labels)
    return {
        "quadrant": float(np.mean(correct.all(axis=1))),
        "valence_sign": float(np.mean(correct[:, VALENCE])),
        "arousal_sign": float(np.mean(correct[:, AROUSAL])),
        "n": float(len(items)),
    }


def correlation_figures(items: Sequence[ItemPredictions]) -> dict[str, float]:
    """Spearman and Pearson of per-item mean predictions with per-item mean targets."""
    predicted, labels = _item_means(items)
    figures: dict[str, float] = {}
    for name, axis in (("valence", VALENCE), ("arousal", AROUSAL)):
        figures[f"{name}_spearman"] = spearman(predicted[:, axis], labels[:, axis])
        figures[f"{name}_pearson"] = pearson(predicted[:, axis], labels[:, axis])
    figures["n"] = float(len(items))
    return figures


def excerpt_figures(items: Sequence[ItemPredictions]) -> dict[str, float]:
    """RMSE and Pearson of excerpt predictions against continuous labels, all excerpts pooled."""
    predicted = np.concatenate([i.predictions for i in items])
    labels = np.concatenate([i.targets for i in items])
    figures: dict[str, float] = {}
    for name, axis in (("valence", VALENCE), ("arousal", AROUSAL)):
        known = ~np.isnan(labels[:, axis])
        error = predicted[known, axis] - labels[known, axis]
        figures[f"{name}_rmse"] = float(np.sqrt(np.mean(error**2))) if known.any() else math.nan
        figures[f"{name}_pearson"] = pearson(predicted[known, axis], labels[known, axis])
    figures["n"] = float(len(items))
    return figures


def set_figures(set_name: str, items: Sequence[ItemPredictions]) -> dict[str, float]:
    if not items:
        return {"n": 0.0}
    if set_name in SIGN_SETS:
        return sign_figures(items)
    if set_name in CORRELATION_SETS:
        return correlation_figures(items)
    return excerpt_figures(items)


def selection_score(figures: Mapping[str, Mapping[str, float]]) -> float:
    """One number to choose a candidate by: the mean of the headline figures of every set.

    Sign sets count quadrant and both sign accuracies, correlation sets both Spearman values; the
    study's clips are too few (a couple of songs in validation) to choose by.
    """
    values: list[float] = []
    keys: tuple[str, ...]
    for set_name, set_values in figures.items():
        if set_name in SIGN_SETS:
            keys = ("quadrant", "valence_sign", "arousal_sign")
        elif set_name in CORRELATION_SETS:
            keys = ("valence_spearman", "arousal_spearman")
        else:
            continue
        for key in keys:
            value = set_values.get(key, math.nan)
            values.append(0.0 if math.isnan(value) else value)
    return float(np.mean(values)) if values else math.nan


def goal_misses(figures: Mapping[str, Mapping[str, float]]) -> list[str]:
    misses = []
    for set_name, goals in GOALS.items():
        for key, minimum in goals.items():
            value = figures.get(set_name, {}).get(key, math.nan)
            if not value >= minimum:
                misses.append(f"{set_name} {key} {value:.3f} < {minimum:.2f}")
    return misses


def figures_behind(
    ours: Mapping[str, Mapping[str, float]], reference: Mapping[str, Mapping[str, float]]
) -> list[str]:
    """Every tabled figure on which ``ours`` is worse than ``reference`` (RMSE: higher is worse).

    Only figures both rows have count; figures compare as tabled (3 decimals), so a tie in the
    table is not behind.
    """
    behind = []
    for set_name, columns in SET_COLUMNS.items():
        if set_name not in ours or set_name not in reference:
            continue
        for key in columns:
            mine = round(ours[set_name].get(key, math.nan), 3)
            theirs = round(reference[set_name].get(key, math.nan), 3)
            if math.isnan(mine) or math.isnan(theirs):
                continue
            if key.endswith("_rmse") and mine > theirs:
                behind.append(f"{set_name} {key} {mine:.3f} > {theirs:.3f}")
            elif not key.endswith("_rmse") and mine < theirs:
                behind.append(f"{set_name} {key} {mine:.3f} < {theirs:.3f}")
    return behind


def _format(value: float) -> str:
    return (
        "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.3f}"
    )


SET_COLUMNS: dict[str, tuple[str, ...]] = {
    "4q_panda": ("quadrant", "arousal_sign", "valence_sign"),
    "emopia": ("quadrant", "arousal_sign", "valence_sign"),
    "emotify": ("arousal_spearman", "valence_spearman", "arousal_pearson", "valence_pearson"),
    "vgmidi": ("arousal_spearman", "valence_spearman", "arousal_pearson", "valence_pearson"),
    "emomusic_2013": ("arousal_rmse", "valence_rmse", "arousal_pearson", "valence_pearson"),
}


def figures_markdown(rows: Mapping[str, Mapping[str, Mapping[str, float]]]) -> str:
    """One table per set: a row per model, a column per figure."""
    set_names = [s for s in SET_COLUMNS if any(s in r for r in rows.values())]
    lines: list[str] = []
    for set_name in set_names:
        columns = SET_COLUMNS[set_name]
        n = next((int(r[set_name].get("n", 0)) for r in rows.values() if set_name in r), 0)
        lines += [f"### {set_name} (validation, {n} items)", ""]
        lines.append("| model | " + " | ".join(c.replace("_", " ") for c in columns) + " |")
        lines.append("| --- |" + " ---: |" * len(columns))
        for model, figures in rows.items():
            if set_name not in figures:
                continue  # a row scored on some sets only (e.g. as published, the study's clips)
            values = figures[set_name]
            lines.append(
                f"| {model} | "
                + " | ".join(_format(values.get(c, math.nan)) for c in columns)
                + " |"
            )
        lines.append("")
    return "\n".join(lines)
