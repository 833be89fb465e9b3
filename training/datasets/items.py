"""What every loader returns: labelled items, the problems met on the way, their excerpt times."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ..config import HOP_S, SEQUENCE_LENGTH, STEP_S
from ..dataset import DatasetError

SET_NAMES = ("emomusic_2013", "4q_panda", "emotify", "vgmidi", "emopia")
CONTINUOUS = "continuous"
SIGN = "sign"
# The live model's first reading needs a full excerpt: 60 frames of 50 ms = 3 s.
EXCERPT_S = SEQUENCE_LENGTH * STEP_S
# ffprobe's duration of an MP3 or Opus file runs up to ~50 ms past the last decoded sample (encoder
# delay and padding); excerpts end at least this far before the probed end.
END_MARGIN_S = 0.06

__all__ = [
    "CONTINUOUS",
    "SET_NAMES",
    "SIGN",
    "DatasetError",
    "LabelledItem",
    "LoadProblem",
    "SetLoad",
]


# eq=False: items hold arrays, so they compare (and hash) by identity; compare ids instead.
@dataclass(frozen=True, eq=False)
class LabelledItem:
    """One piece of labelled audio and the (valence, arousal) targets of its excerpts."""

    set_name: str
    item_id: str
    group: str
    audio: Path
    times_s: NDArray[np.float64]  # excerpt END times (s), on the 0.5 s grid, >= 3 s
    targets: NDArray[np.float32]  # (len(times_s), 2): valence, arousal in [-1, 1]; NaN = no label
    target_kind: str  # CONTINUOUS or SIGN
    confidence: float  # per-item weight in (0, 1]
    official_split: str | None
    duration_s: float = 0.0

    @property
    def n_excerpts(self) -> int:
        return int(np.sum(~np.isnan(self.targets).all(axis=1)))


@dataclass(frozen=True)
class LoadProblem:
    """An item that could not be used, and why (missing audio, unreadable file, dropped rater)."""

    item_id: str
    reason: str

    def __str__(self) -> str:
        return f"{self.item_id}: {self.reason}"


@dataclass
class SetLoad:
    """A loader's result: the usable items plus every problem, each with the item's id."""

    name: str
    items: list[LabelledItem] = field(default_factory=list)
    problems: list[LoadProblem] = field(default_factory=list)

    def problem(self, item_id: str, reason: str) -> None:
        self.problems.append(LoadProblem(item_id, reason))


def excerpt_end_times(duration_s: float, first_s: float = EXCERPT_S) -> NDArray[np.float64]:
    """Excerpt end times on the live hop grid (0.5 s) from `first_s` up to the end of the audio."""
    last = duration_s - END_MARGIN_S
    if last < first_s:
        return np.empty(0, dtype=np.float64)
    first_step = math.ceil(first_s / HOP_S - 1e-9)
    last_step = math.floor(last / HOP_S + 1e-9)
    return np.arange(first_step, last_step + 1, dtype=np.float64) * HOP_S


def constant_targets(
    times_s: NDArray[np.float64], valence: float, arousal: float
) -> NDArray[np.float32]:
    """The same (valence, arousal) at every excerpt: the set labels whole items, not moments."""
    return np.tile(np.array([valence, arousal], dtype=np.float32), (len(times_s), 1))
