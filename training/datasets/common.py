"""Small helpers the loaders share: CSV reading with clear errors, quadrant signs, audio probing."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ..dataset import DatasetError
from .items import LabelledItem, SetLoad, excerpt_end_times
from .probe import DurationCache, UnreadableAudio

# Russell's circumplex quadrants as (valence sign, arousal sign).
QUADRANT_SIGNS: dict[int, tuple[float, float]] = {
    1: (1.0, 1.0),
    2: (-1.0, 1.0),
    3: (-1.0, -1.0),
    4: (1.0, -1.0),
}


def quadrant_number(text: str, where: str) -> int:
    """'Q2', 'q2' or '2' -> 2; anything else is a DatasetError naming `where`."""
    cleaned = text.strip().upper().removeprefix("Q")
    if cleaned not in ("1", "2", "3", "4"):
        raise DatasetError(f"{where}: quadrant {text!r} is not one of Q1..Q4")
    return int(cleaned)


def read_rows(path: Path, required: tuple[str, ...]) -> list[dict[str, str]]:
    """Rows of a CSV file with stripped names and values; DatasetError if absent or columns lack."""
    if not path.is_file():
        raise DatasetError(f"missing label file: {path}")
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
        reader = csv.DictReader(handle)
        rows = [
            {key.strip(): (value or "").strip() for key, value in row.items() if key is not None}
            for row in reader
        ]
        header = [name.strip() for name in reader.fieldnames or []]
    missing = [name for name in required if name not in header]
    if missing:
        raise DatasetError(
            f"{path.name} lacks column(s) {', '.join(missing)} (header: {', '.join(header)})"
        )
    return rows


def probed_times(
    load: SetLoad, durations: DurationCache, item_id: str, audio: Path
) -> tuple[float, NDArray[np.float64]] | None:
    """(duration, excerpt end times) of an audio file, or None after recording why not."""
    if not audio.is_file():
        load.problem(item_id, f"audio file missing: {audio.name}")
        return None
    try:
        duration = durations.duration_s(audio)
    except UnreadableAudio as error:
        load.problem(item_id, f"audio unreadable ({audio.name}): {error}")
        return None
    times = excerpt_end_times(duration)
    if not len(times):
        load.problem(item_id, f"audio only {duration:.2f} s long, shorter than one excerpt")
        return None
    return duration, times


def sorted_items(items: list[LabelledItem]) -> list[LabelledItem]:
    return sorted(items, key=lambda item: item.item_id)
