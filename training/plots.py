"""PNG figures of predictions (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib
import numpy as np
from numpy.typing import NDArray

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def plot_song_curves(
    song_ids: NDArray[np.int64],
    times_s: NDArray[np.float64],
    predicted: dict[str, NDArray[np.float64]],
    annotated: dict[str, NDArray[np.float64]],
    *,
    songs: Sequence[int],
    path: Path,
) -> None:
    """Predicted vs annotated valence and arousal over time, one row per song."""
    figure, axes = plt.subplots(len(songs), 2, figsize=(10, 2.6 * len(songs)), squeeze=False)
    for row, song_id in enumerate(songs):
        mask = song_ids == song_id
        for col, target in enumerate(("valence", "arousal")):
            axis = axes[row][col]
            axis.plot(times_s[mask], annotated[target][mask], label="annotated", color="black")
            axis.plot(times_s[mask], predicted[target][mask], label="predicted", color="tab:red")
            axis.set_ylim(-1, 1)
            axis.set_title(f"song {song_id}: {target}")
            axis.set_xlabel("time (s)")
            axis.grid(alpha=0.3)
    axes[0][0].legend(loc="lower left")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=90)
    plt.close(figure)


def plot_va_scatter(
    predicted: dict[str, NDArray[np.float64]],
    annotated: dict[str, NDArray[np.float64]],
    path: Path,
) -> None:
    """Annotated and predicted points in the valence/arousal plane."""
    figure, axis = plt.subplots(figsize=(5.5, 5.5))
    axis.scatter(annotated["valence"], annotated["arousal"], s=6, alpha=0.5, label="annotated")
    axis.scatter(predicted["valence"], predicted["arousal"], s=6, alpha=0.5, label="predicted")
    axis.axhline(0, color="grey", lw=0.5)
    axis.axvline(0, color="grey", lw=0.5)
    axis.set_xlim(-1, 1)
    axis.set_ylim(-1, 1)
    axis.set_xlabel("valence")
    axis.set_ylabel("arousal")
    axis.legend(loc="lower right")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=90)
    plt.close(figure)


def plot_timeline(
    times_s: NDArray[np.float64],
    valence: NDArray[np.float64],
    arousal: NDArray[np.float64],
    path: Path,
    title: str,
) -> None:
    figure, axis = plt.subplots(figsize=(9, 3))
    axis.plot(times_s, valence, label="valence")
    axis.plot(times_s, arousal, label="arousal")
    axis.set_ylim(-1, 1)
    axis.set_xlabel("time (s)")
    axis.set_title(title)
    axis.grid(alpha=0.3)
    axis.legend(loc="lower left")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=90)
    plt.close(figure)
