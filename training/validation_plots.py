"""One picture of a model on the validation items: where it puts each item, against its label."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import matplotlib
import numpy as np
from numpy.typing import NDArray

from .excerpt_data import ExcerptArrays

matplotlib.use("Agg")
import matplotlib.pyplot as plt

QUADRANT_COLOURS = {1: "tab:orange", 2: "tab:red", 3: "tab:blue", 4: "tab:green"}
QUADRANT_NAMES = {1: "Q1 happy", 2: "Q2 tense", 3: "Q3 sad", 4: "Q4 calm"}
TITLES = {
    "4q_panda": "4Q (audio clips)",
    "emopia": "EMOPIA (piano renders)",
    "emotify": "Emotify (GEMS-derived)",
    "vgmidi": "VGMIDI (piano renders)",
}


def item_means(
    arrays: ExcerptArrays, predicted: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    rows = arrays.item_rows()
    means = np.array([predicted[r].mean(axis=0) for r in rows.values()])
    labels = np.array([np.nanmean(arrays.targets[r], axis=0) for r in rows.values()])
    return means, labels


def plot_validation(
    per_set: Mapping[str, tuple[NDArray[np.float64], NDArray[np.float64]]],
    path: Path,
    title: str,
) -> None:
    """Per-item mean predictions: quadrant sets as valence/arousal scatters coloured by the labelled
    quadrant; continuous sets as predicted vs labelled value per axis."""
    panels = [name for name in TITLES if name in per_set]
    figure, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 4.2), squeeze=False)
    for axis, name in zip(axes[0], panels, strict=True):
        means, labels = per_set[name]
        if name in ("4q_panda", "emopia"):
            quadrant = np.where(
                labels[:, 1] > 0, np.where(labels[:, 0] > 0, 1, 2), np.where(labels[:, 0] > 0, 4, 3)
            )
            for number, colour in QUADRANT_COLOURS.items():
                chosen = quadrant == number
                axis.scatter(
                    means[chosen, 0], means[chosen, 1], s=12, c=colour, alpha=0.75,
                    label=QUADRANT_NAMES[number],
                )  # fmt: skip
            axis.axhline(0, color="grey", lw=0.8)
            axis.axvline(0, color="grey", lw=0.8)
            axis.set_xlabel("predicted valence (clip mean)")
            axis.set_ylabel("predicted arousal (clip mean)")
            axis.legend(fontsize=7, loc="lower right", title="labelled", title_fontsize=7)
        else:
            axis.scatter(labels[:, 1], means[:, 1], s=14, c="tab:red", alpha=0.75, label="arousal")
            axis.scatter(labels[:, 0], means[:, 0], s=14, c="tab:blue", alpha=0.75, label="valence")
            axis.set_xlabel("label (item mean)")
            axis.set_ylabel("prediction (item mean)")
            axis.legend(fontsize=7, loc="lower right")
        axis.set_title(f"{TITLES[name]}, {len(means)} items", fontsize=10)
        axis.grid(alpha=0.3)
    figure.suptitle(title, fontsize=11)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=90)
    plt.close(figure)
