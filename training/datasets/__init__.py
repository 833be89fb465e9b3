"""Labelled music for training: one loader per set, all read from the data root, nothing bundled.

    root = data_root(args.data)                     # --data > $MUSIC_MOOD_DATA > ../shared/data
    items = load_set("vgmidi", root, cache_dir=default_cache_dir())
    train_ids, validation_ids = validation_split(items, seed=0)

Every loader returns `LabelledItem`s (audio file, excerpt end times, (valence, arousal) targets,
group, confidence) and reports each unusable item with its id; label/audio contradictions raise
DatasetError.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from ..dataset import DatasetError
from . import emomusic, emopia, emotify, panda4q, vgmidi
from .items import CONTINUOUS, SET_NAMES, SIGN, LabelledItem, LoadProblem, SetLoad
from .probe import DurationCache
from .root import DATA_ENV, DataRootMissing, data_root, default_cache_dir
from .splits import read_split, validation_split, write_split

_LOGGER = logging.getLogger(__name__)

_LOADERS: dict[str, Callable[..., SetLoad]] = {
    emomusic.NAME: emomusic.load,
    panda4q.NAME: panda4q.load,
    emotify.NAME: emotify.load,
    vgmidi.NAME: vgmidi.load,
    emopia.NAME: emopia.load,
}
MIDI_SETS = (vgmidi.NAME, emopia.NAME)


def scan_set(name: str, root: Path, *, cache_dir: Path) -> SetLoad:
    """Items of one set plus each problem (missing, unreadable, unlabelled, dropped raters)."""
    if name not in _LOADERS:
        raise DatasetError(f"unknown data set {name!r}; known: {', '.join(SET_NAMES)}")
    set_dir = Path(root) / name
    if not set_dir.is_dir():
        raise DataRootMissing(f"{set_dir} not found: the data root {root} has no {name}/ folder")
    cache_dir.mkdir(parents=True, exist_ok=True)
    durations = DurationCache(cache_dir)
    try:
        if name in MIDI_SETS:
            return _LOADERS[name](set_dir, durations, cache_dir=cache_dir)
        return _LOADERS[name](set_dir, durations)
    finally:
        durations.save()


def load_set(
    name: str, root: Path, *, cache_dir: Path, report: Callable[[str], None] | None = None
) -> list[LabelledItem]:
    """Usable items of one set; each problem goes to `report` (default: a logged warning)."""
    loaded = scan_set(name, root, cache_dir=cache_dir)
    say = report if report is not None else _LOGGER.warning
    for problem in loaded.problems:
        say(f"{name} {problem}")
    return loaded.items


__all__ = [
    "CONTINUOUS",
    "DATA_ENV",
    "SET_NAMES",
    "SIGN",
    "DataRootMissing",
    "DatasetError",
    "LabelledItem",
    "LoadProblem",
    "SetLoad",
    "data_root",
    "default_cache_dir",
    "load_set",
    "read_split",
    "scan_set",
    "validation_split",
    "write_split",
]
