"""emoMusic 2013 ("1000 Songs"): valence/arousal every 0.5 s from 15 s to 45 s of each clip.

Parsing is training/dataset.py's (the study's loader); this module only turns its songs into items.
Only songs whose audio is present become items; the others are reported. `official_split` is the
MediaEval 2013 part ("development" or "evaluation"); the evaluation part is never used for tuning.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..config import LABEL_TIMES_S
from ..dataset import EmoMusicDataset
from .items import CONTINUOUS, END_MARGIN_S, LabelledItem, SetLoad
from .probe import DurationCache, UnreadableAudio

NAME = "emomusic_2013"


def load(set_dir: Path, durations: DurationCache) -> SetLoad:
    result = SetLoad(NAME)
    dataset = EmoMusicDataset.load(set_dir)
    label_times = np.asarray(LABEL_TIMES_S, dtype=np.float64)
    for song_id, song in dataset.songs.items():
        item_id = str(song_id)
        if song.audio_path is None:
            result.problem(item_id, "audio file missing (labels only)")
            continue
        try:
            duration = durations.duration_s(song.audio_path)
        except UnreadableAudio as error:
            result.problem(item_id, f"audio unreadable ({song.audio_path.name}): {error}")
            continue
        fits = label_times <= duration - END_MARGIN_S
        if not fits.any():
            result.problem(item_id, f"audio only {duration:.2f} s long; the labels start at 15 s")
            continue
        if not fits.all():
            result.problem(
                item_id,
                f"audio {duration:.2f} s long: the last {int((~fits).sum())} label(s) dropped",
            )
        targets = np.stack([song.valence[fits], song.arousal[fits]], axis=1).astype(np.float32)
        result.items.append(
            LabelledItem(
                set_name=NAME,
                item_id=item_id,
                group=item_id,
                audio=song.audio_path,
                times_s=label_times[fits],
                targets=targets,
                target_kind=CONTINUOUS,
                confidence=1.0,
                official_split=song.mediaeval_set,
                duration_s=duration,
            )
        )
    return result
