"""EMOPIA 1.0 MIDI part (Hung et al. 2021): pop-piano clips labelled with a Russell quadrant.

Layout: ``midis/<ID>.mid``, ``label.csv`` (ID, 4Q, annotator) and the official
``split/{train,val}_clip.csv``. IDs are ``Q<q>_<YouTube id>_<clip>`` (YouTube ids may hold '_');
the quadrant in the name must agree with the 4Q column. Targets are the quadrant's signs; the group
is the song (YouTube id); the clip is rendered whole (render.py).
"""

from __future__ import annotations

from pathlib import Path

from ..dataset import DatasetError
from .common import QUADRANT_SIGNS, quadrant_number, read_rows
from .items import SIGN, LabelledItem, SetLoad, constant_targets, excerpt_end_times
from .probe import DurationCache
from .render import render_midi_or_report

NAME = "emopia"
LABELS = "label.csv"
MIDI_DIR = "midis"
SPLIT_FILES = {"train": Path("split") / "train_clip.csv", "val": Path("split") / "val_clip.csv"}


def song_of(clip_id: str) -> str:
    """'Q1_0vLPYiPN7qY_0' -> '0vLPYiPN7qY' (everything between the quadrant and the clip number)."""
    parts = clip_id.split("_")
    if len(parts) < 3:
        raise DatasetError(f"{NAME}: clip id {clip_id!r} is not Q<q>_<song>_<clip>")
    return "_".join(parts[1:-1])


def _official_splits(set_dir: Path) -> dict[str, str]:
    splits: dict[str, str] = {}
    for side, relative in SPLIT_FILES.items():
        for row in read_rows(set_dir / relative, ("clip_name",)):
            clip = Path(row["clip_name"]).stem
            if clip in splits:
                raise DatasetError(f"{NAME}: {clip} is in both official split files")
            splits[clip] = side
    return splits


def load(set_dir: Path, durations: DurationCache, *, cache_dir: Path) -> SetLoad:
    del durations  # renders are WAV files of known length
    result = SetLoad(NAME)
    splits = _official_splits(set_dir)
    labelled: set[str] = set()
    for row in read_rows(set_dir / LABELS, ("ID", "4Q")):
        clip = row["ID"]
        if clip in labelled:
            raise DatasetError(f"{NAME}: {clip} is labelled twice in {LABELS}")
        labelled.add(clip)
        quadrant = quadrant_number(row["4Q"], f"{NAME} {LABELS}, {clip}")
        if quadrant_number(clip.split("_")[0], f"{NAME} clip name {clip}") != quadrant:
            raise DatasetError(
                f"{NAME}: {clip} is named Q{clip[1:2]} but labelled quadrant {quadrant}"
            )
        midi = set_dir / MIDI_DIR / f"{clip}.mid"
        if not midi.is_file():
            result.problem(clip, f"MIDI file missing: {midi.name}")
            continue
        rendered = render_midi_or_report(midi, cache_dir, result, clip)
        if rendered is None:
            continue
        times = excerpt_end_times(rendered.duration_s)
        if not len(times):
            result.problem(
                clip, f"renders to only {rendered.duration_s:.1f} s, shorter than one excerpt"
            )
            continue
        if clip not in splits:
            result.problem(clip, "in neither official split file (train/val)")
        valence, arousal = QUADRANT_SIGNS[quadrant]
        result.items.append(
            LabelledItem(
                set_name=NAME,
                item_id=clip,
                group=song_of(clip),
                audio=rendered.path,
                times_s=times,
                targets=constant_targets(times, valence, arousal),
                target_kind=SIGN,
                confidence=1.0,
                official_split=splits.get(clip),
                duration_s=rendered.duration_s,
            )
        )
    unknown = sorted(set(splits) - labelled)
    if unknown:
        raise DatasetError(
            f"{NAME}: split files name clips without a label: {', '.join(unknown[:5])}"
        )
    midi_dir = set_dir / MIDI_DIR
    for midi in sorted(midi_dir.glob("*.mid")) if midi_dir.is_dir() else []:
        if midi.stem not in labelled:
            result.problem(midi.stem, f"MIDI file has no row in {LABELS}; not used")
    result.items.sort(key=lambda item: item.item_id)
    return result
