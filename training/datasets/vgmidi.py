"""VGMIDI labelled part (Ferreira & Whitehead 2019): per-bar valence/arousal of piano MIDI.

Layout: ``labelled/midi/*.mid`` and ``labelled/annotations/vgmidi_raw_*.json``, each with ``pieces``
(key -> midi, duration in s, measures) and ``annotations`` (``<piece key>_<rater>`` -> one valence
and one arousal value per measure; ~30 raters a piece). Keys restart in every JSON file, so a piece
is known by its MIDI name.

Each piece is rendered (render.py) and cut to its stated duration; the raters are averaged per bar;
bar i covers [i*d/m, (i+1)*d/m) and the excerpt ending at t gets the bar containing t. The group is
the game: the first three '_' fields of the MIDI name (the held-back part is game-disjoint).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..dataset import DatasetError
from .items import CONTINUOUS, LabelledItem, SetLoad, excerpt_end_times
from .probe import DurationCache
from .render import render_midi_or_report

NAME = "vgmidi"
MIDI_DIR = Path("labelled") / "midi"
ANNOTATION_DIR = Path("labelled") / "annotations"
ANNOTATION_GLOB = "vgmidi_raw_*.json"
# A render may end this much before the stated duration (the rest is padded with silence); more
# means the MIDI file is not the one the raters heard.
MAX_SHORTFALL_S = 5.0


def game_of(midi_stem: str) -> str:
    """'Banjo-Kazooie_N64_Banjo-Kazooie_Ending' -> 'Banjo-Kazooie_N64_Banjo-Kazooie'."""
    return "_".join(midi_stem.split("_")[:3])


def bar_index(times_s: NDArray[np.float64], duration_s: float, measures: int) -> NDArray[np.int64]:
    """Index of the bar containing each time: bar i covers [i*d/m, (i+1)*d/m)."""
    bars = np.floor(times_s * measures / duration_s + 1e-9).astype(np.int64)
    return np.clip(bars, 0, measures - 1)


def _piece_ratings(
    key: str,
    piece: dict[str, Any],
    annotations: dict[str, Any],
    *,
    load: SetLoad,
    item_id: str,
    source: str,
) -> NDArray[np.float64] | None:
    """Per-bar mean (measures, 2) of the piece's raters; misfitting raters are dropped."""
    measures = int(piece["measures"])
    curves = []
    for rater_key in sorted(annotations):
        if rater_key.rsplit("_", 1)[0] != key:
            continue
        rating = annotations[rater_key]
        valence, arousal = rating.get("valence"), rating.get("arousal")
        if not isinstance(valence, list) or not isinstance(arousal, list):
            load.problem(
                item_id, f"{source} rater {rater_key} has no valence/arousal lists; dropped"
            )
            continue
        if len(valence) != measures or len(arousal) != measures:
            load.problem(
                item_id,
                f"{source} rater {rater_key} rated {len(valence)}/{len(arousal)} bars "
                f"of {measures}; dropped",
            )
            continue
        curve = np.array([valence, arousal], dtype=np.float64).T
        if not np.isfinite(curve).all() or np.abs(curve).max() > 1.0:
            raise DatasetError(f"{NAME} {source} rater {rater_key}: values outside [-1, 1]")
        curves.append(curve)
    if not curves:
        load.problem(item_id, f"{source} piece {key}: no usable rater; not used")
        return None
    mean: NDArray[np.float64] = np.mean(np.stack(curves), axis=0)
    return mean


def load(set_dir: Path, durations: DurationCache, *, cache_dir: Path) -> SetLoad:
    del durations  # renders are WAV files of known length
    result = SetLoad(NAME)
    files = sorted((set_dir / ANNOTATION_DIR).glob(ANNOTATION_GLOB))
    if not files:
        raise DatasetError(f"{NAME}: no {ANNOTATION_GLOB} in {set_dir / ANNOTATION_DIR}")
    midi_dir = set_dir / MIDI_DIR
    labelled: set[str] = set()
    for path in files:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            pieces, annotations = document["pieces"], document["annotations"]
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise DatasetError(
                f"{NAME}: {path.name} is not a VGMIDI annotation file: {error}"
            ) from error
        for key, piece in sorted(pieces.items()):
            try:
                midi_name = str(piece["midi"])
                duration = float(piece["duration"])
                measures = int(piece["measures"])
            except (KeyError, TypeError, ValueError) as error:
                raise DatasetError(
                    f"{NAME} {path.name} piece {key}: bad midi/duration/measures"
                ) from error
            item_id = Path(midi_name).stem
            if item_id in labelled:
                raise DatasetError(f"{NAME}: {midi_name} is labelled twice ({path.name} {key})")
            labelled.add(item_id)
            if not (duration > 0 and measures > 0 and math.isfinite(duration)):
                raise DatasetError(
                    f"{NAME} {path.name} piece {key}: duration {duration}, measures {measures}"
                )
            bars = _piece_ratings(
                key, piece, annotations, load=result, item_id=item_id, source=path.name
            )
            if bars is None:
                continue
            midi = midi_dir / midi_name
            if not midi.is_file():
                result.problem(item_id, f"MIDI file missing: {midi_name}")
                continue
            rendered = render_midi_or_report(midi, cache_dir, result, item_id, trim_s=duration)
            if rendered is None:
                continue
            if rendered.rendered_s < duration - MAX_SHORTFALL_S:
                raise DatasetError(
                    f"{NAME}: {midi_name} renders to {rendered.rendered_s:.1f} s "
                    "but its labels cover "
                    f"{duration:.1f} s: the MIDI does not match the annotation"
                )
            times = excerpt_end_times(duration)
            if not len(times):
                result.problem(item_id, f"only {duration:.1f} s long, shorter than one excerpt")
                continue
            targets = bars[bar_index(times, duration, measures)].astype(np.float32)
            result.items.append(
                LabelledItem(
                    set_name=NAME,
                    item_id=item_id,
                    group=game_of(item_id),
                    audio=rendered.path,
                    times_s=times,
                    targets=targets,
                    target_kind=CONTINUOUS,
                    confidence=1.0,
                    official_split=None,
                    duration_s=duration,
                )
            )
    if midi_dir.is_dir():
        for midi in sorted(midi_dir.glob("*.mid")):
            if midi.stem not in labelled:
                result.problem(midi.stem, "MIDI file has no annotation; not used")
    result.items.sort(key=lambda item: item.item_id)
    return result
