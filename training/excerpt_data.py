"""Labelled excerpts of every set as arrays: features, raw frame levels, targets, kinds, weights."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from .config import HOP_S
from .excerpt_cache import cached_excerpts, labelled_and_covered

# Defaults of `music-mood-train default --set-weight`: every set pulls with the same total weight
# whatever its number of excerpts. The study's clips are not trained on (weight 0): only 8 songs of
# the development part have audio here, too few to learn from, and as untouched songs with 2 Hz
# labels they are the one check of the model's moment-to-moment curve.
DEFAULT_SET_WEIGHTS: dict[str, float] = {
    "emomusic_2013": 0.0,
    "4q_panda": 1.0,
    "emotify": 1.0,
    "vgmidi": 1.0,
    "emopia": 1.0,
}


@dataclass
class ExcerptArrays:
    """Excerpts of many items; row k belongs to item ``item[k]`` (an index into ``keys``)."""

    features: NDArray[np.float32]  # (n, 60, 68)
    levels: NDArray[np.float32]  # (n, 60) dBFS of the raw frames
    targets: NDArray[np.float32]  # (n, 2) valence, arousal; NaN where unknown
    sign: NDArray[np.bool_]  # (n,) the targets are ±1 quadrant signs, not values
    weight: NDArray[np.float32]  # (n,) training weight (set weight x item confidence, balanced)
    item: NDArray[np.int64]  # (n,)
    keys: list[tuple[str, str]]  # (set name, item id) per item index

    def __len__(self) -> int:
        return int(self.targets.shape[0])

    def item_rows(self) -> dict[tuple[str, str], NDArray[np.int64]]:
        rows: dict[tuple[str, str], list[int]] = {}
        for row, index in enumerate(self.item.tolist()):
            rows.setdefault(self.keys[index], []).append(row)
        return {key: np.array(value, np.int64) for key, value in rows.items()}


def assemble(
    items: Sequence[object],
    cache_dir: Path,
    *,
    every_s: float = HOP_S,
    set_weights: Mapping[str, float] | None = None,
    progress: bool = False,
) -> ExcerptArrays:
    """Excerpts of ``items`` (LabelledItem) every ``every_s`` seconds, with balanced weights.

    Within a set every excerpt weighs its item's confidence; each set's weights then sum to its
    set weight, so a set's size does not decide how much it pulls.
    """
    weights_by_set = dict(DEFAULT_SET_WEIGHTS if set_weights is None else set_weights)
    stride = max(1, round(every_s / HOP_S))
    features, levels, targets, sign, weight, item_index = [], [], [], [], [], []
    keys: list[tuple[str, str]] = []
    total = len(items)
    for position, item in enumerate(items):
        excerpts = cached_excerpts(item.audio, cache_dir)  # type: ignore[attr-defined]
        rows = excerpts.at(item.times_s)  # type: ignore[attr-defined]
        keep = labelled_and_covered(item.targets, rows)[::stride]  # type: ignore[attr-defined]
        if keep.size == 0:
            continue
        keys.append((item.set_name, item.item_id))  # type: ignore[attr-defined]
        features.append(excerpts.features[rows[keep]])
        levels.append(excerpts.levels[rows[keep]])
        targets.append(item.targets[keep].astype(np.float32))  # type: ignore[attr-defined]
        sign.append(np.full(keep.size, item.target_kind == "sign"))  # type: ignore[attr-defined]
        weight.append(np.full(keep.size, float(item.confidence), np.float32))  # type: ignore[attr-defined]
        item_index.append(np.full(keep.size, len(keys) - 1, np.int64))
        if progress and position % 100 == 0:
            print(f"  excerpts: {position}/{total} items", flush=True)
    if not keys:
        raise ValueError("no labelled excerpt found in the given items")
    arrays = ExcerptArrays(
        features=np.concatenate(features),
        levels=np.concatenate(levels),
        targets=np.concatenate(targets),
        sign=np.concatenate(sign),
        weight=np.concatenate(weight),
        item=np.concatenate(item_index),
        keys=keys,
    )
    set_of_row = np.array([keys[i][0] for i in arrays.item])
    for set_name in np.unique(set_of_row):
        rows = set_of_row == set_name
        share = float(weights_by_set.get(str(set_name), 1.0))
        arrays.weight[rows] *= share / max(float(arrays.weight[rows].sum()), 1e-12)
    # Mean weight 1 keeps learning rates meaningful whatever the number of excerpts.
    arrays.weight *= len(arrays) / max(float(arrays.weight.sum()), 1e-12)
    return arrays
