"""4Q audio emotion dataset (Panda, Malheiro, Paiva 2018): Russell quadrant per ~30 s clip.

Layout: ``Q1..Q4/<Song>.opus``, ``panda_dataset_taffc_annotations.csv`` (Song, Quadrant) and
``panda_dataset_taffc_metadata.csv`` (Song, Artist, ..., Quadrant, PQuad, ...). Targets are the
quadrant's signs (+1/-1 per axis) at every excerpt; PQuad (the share of the song's mood tags
agreeing with its quadrant) is the item's confidence; the group is the artist, because the
held-back part is artist-disjoint.
"""

from __future__ import annotations

from pathlib import Path

from ..dataset import DatasetError
from .common import QUADRANT_SIGNS, probed_times, quadrant_number, read_rows, sorted_items
from .items import SIGN, LabelledItem, SetLoad, constant_targets
from .probe import DurationCache

NAME = "4q_panda"
ANNOTATIONS = "panda_dataset_taffc_annotations.csv"
METADATA = "panda_dataset_taffc_metadata.csv"
AUDIO_SUFFIX = ".opus"


def artist_group(artist: str) -> str:
    """Case- and space-insensitive artist name, so one artist is one group however it is spelled."""
    return " ".join(artist.casefold().split())


def load(set_dir: Path, durations: DurationCache) -> SetLoad:
    result = SetLoad(NAME)
    labels = read_rows(set_dir / ANNOTATIONS, ("Song", "Quadrant"))
    metadata = {
        row["Song"]: row
        for row in read_rows(set_dir / METADATA, ("Song", "Artist", "Quadrant", "PQuad"))
    }
    labelled: set[str] = set()
    for row in labels:
        song = row["Song"]
        if song in labelled:
            raise DatasetError(f"{NAME}: song {song} is labelled twice in {ANNOTATIONS}")
        labelled.add(song)
        quadrant = quadrant_number(row["Quadrant"], f"{NAME} {ANNOTATIONS}, song {song}")
        meta = metadata.get(song)
        if meta is None:
            result.problem(song, f"no row in {METADATA} (artist and PQuad unknown)")
            continue
        if quadrant_number(meta["Quadrant"], f"{NAME} {METADATA}, song {song}") != quadrant:
            raise DatasetError(
                f"{NAME}: song {song} is {row['Quadrant']} in {ANNOTATIONS} "
                f"but {meta['Quadrant']} in {METADATA}"
            )
        elsewhere = [
            q
            for q in QUADRANT_SIGNS
            if q != quadrant and (set_dir / f"Q{q}" / f"{song}{AUDIO_SUFFIX}").is_file()
        ]
        if elsewhere:
            raise DatasetError(
                f"{NAME}: song {song} is labelled Q{quadrant} "
                f"but its audio is in folder Q{elsewhere[0]}"
            )
        try:
            confidence = float(meta["PQuad"])
        except ValueError:
            raise DatasetError(
                f"{NAME}: song {song} has a non-numeric PQuad {meta['PQuad']!r}"
            ) from None
        if not 0.0 < confidence <= 1.0:
            raise DatasetError(f"{NAME}: song {song} has PQuad {confidence}, outside (0, 1]")
        audio = set_dir / f"Q{quadrant}" / f"{song}{AUDIO_SUFFIX}"
        probed = probed_times(result, durations, song, audio)
        if probed is None:
            continue
        duration, times = probed
        valence, arousal = QUADRANT_SIGNS[quadrant]
        result.items.append(
            LabelledItem(
                set_name=NAME,
                item_id=song,
                group=artist_group(meta["Artist"]),
                audio=audio,
                times_s=times,
                targets=constant_targets(times, valence, arousal),
                target_kind=SIGN,
                confidence=confidence,
                official_split=None,
                duration_s=duration,
            )
        )
    for quadrant in QUADRANT_SIGNS:
        folder = set_dir / f"Q{quadrant}"
        for path in sorted(folder.glob(f"*{AUDIO_SUFFIX}")) if folder.is_dir() else []:
            if path.stem not in labelled:
                result.problem(
                    path.stem,
                    f"audio Q{quadrant}/{path.name} has no label in {ANNOTATIONS}; not used",
                )
    result.items = sorted_items(result.items)
    return result
