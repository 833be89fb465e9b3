"""Group-disjoint validation splits: no artist, game, song or track is ever on both sides.

Where a set ships its own split it is used as is (EMOPIA's train/val files); emoMusic's evaluation
part is left out of both sides so that nothing is tuned on it. Otherwise whole groups, shuffled
with the seed after sorting, join validation while each brings it closer to `fraction` of the
items. The split is written to the run folder as JSON (ids and groups per side) so any reported
number traces back to its items.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..dataset import DatasetError
from .items import LabelledItem

OFFICIAL_TRAIN = "train"
OFFICIAL_VALIDATION = "val"
HELD_OUT = "evaluation"  # emoMusic's MediaEval evaluation part: never in training or validation
SPLIT_FORMAT = 1


def _check_groups(items: Sequence[LabelledItem], train: set[str], validation: set[str]) -> None:
    groups = {item.item_id: item.group for item in items}
    crossing = {groups[i] for i in train} & {groups[i] for i in validation}
    if crossing:
        raise DatasetError(f"split puts group(s) {', '.join(sorted(crossing)[:5])} on both sides")


def validation_split(
    items: Sequence[LabelledItem], *, seed: int = 0, fraction: float = 0.2
) -> tuple[list[str], list[str]]:
    """(train item ids, validation item ids), group-disjoint, deterministic for a seed."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction must be in (0, 1), got {fraction}")
    ids = [item.item_id for item in items]
    if len(set(ids)) != len(ids):
        raise DatasetError("item ids repeat: split one set at a time")
    usable = [item for item in items if item.official_split != HELD_OUT]
    official = {item.official_split for item in usable}
    if usable and official <= {OFFICIAL_TRAIN, OFFICIAL_VALIDATION}:
        train = [item.item_id for item in usable if item.official_split == OFFICIAL_TRAIN]
        validation = [item.item_id for item in usable if item.official_split == OFFICIAL_VALIDATION]
    else:
        group_sizes: dict[str, int] = {}
        for item in usable:
            group_sizes[item.group] = group_sizes.get(item.group, 0) + 1
        order = np.random.default_rng(seed).permutation(len(group_sizes))
        groups = sorted(group_sizes)
        wanted = fraction * len(usable)
        picked: set[str] = set()
        count = 0
        for index in order:
            size = group_sizes[groups[index]]
            # Take a group when it brings the validation size closer to the target, so one big
            # group (a game with 20 pieces) cannot push validation far past the fraction.
            if abs(count + size - wanted) < abs(count - wanted):
                picked.add(groups[index])
                count += size
        if len(group_sizes) > 1 and len(picked) == len(group_sizes):
            # A set of very few groups: keep at least one group for training.
            picked.discard(groups[order[-1]])
        train = [item.item_id for item in usable if item.group not in picked]
        validation = [item.item_id for item in usable if item.group in picked]
    _check_groups(usable, set(train), set(validation))
    return train, validation


def split_record(
    items: Sequence[LabelledItem],
    train_ids: Sequence[str],
    validation_ids: Sequence[str],
    *,
    seed: int,
    fraction: float,
) -> dict[str, Any]:
    by_id = {item.item_id: item for item in items}
    unknown = [i for i in (*train_ids, *validation_ids) if i not in by_id]
    if unknown:
        raise DatasetError(f"split names items that were not loaded: {', '.join(unknown[:5])}")
    _check_groups(items, set(train_ids), set(validation_ids))
    sets = sorted({item.set_name for item in items})

    def side(ids: Sequence[str]) -> dict[str, Any]:
        return {"ids": list(ids), "groups": sorted({by_id[i].group for i in ids})}

    left_out = sorted(set(by_id) - set(train_ids) - set(validation_ids))
    return {
        "format": SPLIT_FORMAT,
        "set": sets[0] if len(sets) == 1 else sets,
        "seed": seed,
        "fraction": fraction,
        "train": side(train_ids),
        "validation": side(validation_ids),
        "left_out": left_out,
    }


def write_split(
    path: Path,
    items: Sequence[LabelledItem],
    train_ids: Sequence[str],
    validation_ids: Sequence[str],
    *,
    seed: int,
    fraction: float,
) -> Path:
    """Write the split as JSON (set, seed, ids and groups per side, items left out)."""
    record = split_record(items, train_ids, validation_ids, seed=seed, fraction=fraction)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    return path


def read_split(path: Path) -> tuple[list[str], list[str]]:
    """(train ids, validation ids) of a split written by `write_split`."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        return list(record["train"]["ids"]), list(record["validation"]["ids"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise DatasetError(f"{path} is not a split file: {error}") from error
