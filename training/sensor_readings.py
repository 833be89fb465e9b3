"""A model's readings as the integration's valence and arousal sensors publish them.

The sensors do not show each 3 s excerpt's raw output: the core's ``MoodTracker`` smooths it
(exponentially, on audio time) and keeps quiet hops out. Scoring the published values tells what a
user sees; this module runs a timeline through that same tracker instead of re-implementing it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from music_mood_core.mood import MoodTracker
from music_mood_core.timeline import Timeline
from numpy.typing import NDArray

from .datasets.items import LabelledItem
from .excerpt_cache import labelled_and_covered, rows_at
from .quality import ItemPredictions


@dataclass(frozen=True)
class SensorSmoothing:
    """The analyser options that shape the published valence and arousal."""

    smoothing_s: float
    silence_threshold_db: float
    silence_duration_s: float


def published_values(
    readings: Timeline, hop_s: float, sensor: SensorSmoothing
) -> NDArray[np.float64]:
    """(n, 2) valence, arousal the sensors show after each reading of ``readings``, in order.

    ``readings`` must start where the audio starts, as a live analyser's would: the smoother's
    state after a song's first seconds is part of what a user sees later.
    """
    tracker = MoodTracker(
        sensor.smoothing_s, sensor.silence_threshold_db, sensor.silence_duration_s
    )
    values = np.empty((len(readings), 2), np.float64)
    for row, (valence, arousal, level) in enumerate(
        zip(readings.valence, readings.arousal, readings.level_dbfs, strict=True)
    ):
        state = tracker.update(float(valence), float(arousal), float(level), hop_s)
        values[row] = (state.valence, state.arousal)
    return values


def at_label_times(
    item: LabelledItem, readings: Timeline, values: NDArray[np.float64], hop_s: float
) -> ItemPredictions:
    """``values`` (one row per reading) at the item's labelled times, with those labels.

    The same rows as the excerpt cache gives the per-excerpt figures: every label time with at
    least one known axis for which the audio holds a full excerpt.
    """
    if len(values) != len(readings):
        raise ValueError(f"{len(values)} values for {len(readings)} readings")
    rows = rows_at(readings.times_s, item.times_s, hop_s)
    keep = labelled_and_covered(item.targets, rows)
    return ItemPredictions(item.item_id, values[rows[keep]], item.targets[keep].astype(np.float64))
