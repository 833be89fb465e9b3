"""Emotify (Aljanaki, Wiering, Veltkamp 2016): felt emotion, per-rater GEMS-9 choices, 1 min clips.

Layout: ``<genre>/<n>.opus`` (genre in classical, rock, electronic, pop; track id = n + the genre's
offset 0/100/200/300) and ``data.csv`` (one row per rater and track: nine 0/1 GEMS columns).

Valence/arousal are derived, not given: each rater's chosen categories are mapped through
`GEMS_VALENCE_AROUSAL` (justified in docs/TRAINING.md, "Emotify: GEMS-9 to valence/arousal") and
averaged, then the track's target is the mean over its raters (a rater who chose nothing adds
nothing).
Confidence grows with the number of raters (inverse-variance weight of a mean: proportional to n),
scaled so the set's most-rated track has 1. The group is the track.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..dataset import DatasetError
from .common import probed_times, read_rows
from .items import CONTINUOUS, LabelledItem, SetLoad, constant_targets
from .probe import DurationCache

NAME = "emotify"
LABELS = "data.csv"
AUDIO_SUFFIX = ".opus"
GENRE_OFFSETS = {"classical": 0, "rock": 100, "electronic": 200, "pop": 300}
TRACKS_PER_GENRE = 100

# (valence, arousal) weight of each GEMS-9 category: +-1 where the category sits clearly at that
# pole, +-0.5 where it leans there, 0 where the literature places it in the middle or disagrees.
GEMS_VALENCE_AROUSAL: dict[str, tuple[float, float]] = {
    "amazement": (0.5, 0.5),  # wonder: sublimity, moved and dazzled
    "solemnity": (0.5, 0.0),  # transcendence: sublimity; both serene and thrilling items
    "tenderness": (1.0, -0.5),  # sublimity; gentle
    "nostalgia": (0.0, -0.5),  # sublimity but bittersweet (melancholic, dreamy, sentimental)
    "calmness": (0.5, -1.0),  # peacefulness: calm, relaxed, serene
    "power": (0.5, 1.0),  # vitality: strong, triumphant, energetic
    "joyful_activation": (1.0, 1.0),  # vitality: joyful, animated, dancing
    "tension": (-1.0, 1.0),  # unease: tense, agitated, nervous
    "sadness": (-1.0, -0.5),  # unease: sad, sorrowful
}
GEMS = tuple(GEMS_VALENCE_AROUSAL)


def rater_valence_arousal(choices: dict[str, int]) -> tuple[float, float] | None:
    """Mean (valence, arousal) of the categories one rater chose; None if they chose none."""
    chosen = [GEMS_VALENCE_AROUSAL[name] for name in GEMS if choices[name]]
    if not chosen:
        return None
    weights = np.array(chosen, dtype=np.float64)
    return float(weights[:, 0].mean()), float(weights[:, 1].mean())


def genre_and_number(track_id: int) -> tuple[str, int]:
    for genre, offset in GENRE_OFFSETS.items():
        if offset < track_id <= offset + TRACKS_PER_GENRE:
            return genre, track_id - offset
    raise DatasetError(f"{NAME}: track id {track_id} is outside 1..400")


def _choices(row: dict[str, str], line: int) -> dict[str, int]:
    try:
        choices = {name: int(row[name]) for name in GEMS}
    except ValueError:
        raise DatasetError(f"{NAME} {LABELS} line {line}: a GEMS column is not 0/1") from None
    if any(value not in (0, 1) for value in choices.values()):
        raise DatasetError(f"{NAME} {LABELS} line {line}: a GEMS column is not 0/1")
    return choices


def load(set_dir: Path, durations: DurationCache) -> SetLoad:
    result = SetLoad(NAME)
    rows = read_rows(set_dir / LABELS, ("track id", "genre", *GEMS))
    ratings: dict[int, list[tuple[float, float]]] = {}
    silent_raters: dict[int, int] = {}
    for line, row in enumerate(rows, start=2):
        try:
            track_id = int(row["track id"])
        except ValueError:
            raise DatasetError(
                f"{NAME} {LABELS} line {line}: track id {row['track id']!r}"
            ) from None
        genre, _ = genre_and_number(track_id)
        if row["genre"].lower() != genre:
            raise DatasetError(
                f"{NAME} {LABELS} line {line}: track {track_id} is {row['genre']!r}, but ids "
                f"{GENRE_OFFSETS[genre] + 1}..{GENRE_OFFSETS[genre] + TRACKS_PER_GENRE} are {genre}"
            )
        rated = rater_valence_arousal(_choices(row, line))
        ratings.setdefault(track_id, [])
        if rated is None:
            silent_raters[track_id] = silent_raters.get(track_id, 0) + 1
        else:
            ratings[track_id].append(rated)
    most_raters = max((len(r) for r in ratings.values()), default=0)
    for track_id, track_ratings in ratings.items():
        item_id = str(track_id)
        if silent_raters.get(track_id):
            result.problem(
                item_id, f"{silent_raters[track_id]} rater(s) chose no GEMS category; not counted"
            )
        if not track_ratings:
            result.problem(item_id, "no rater chose any GEMS category; track not used")
            continue
        genre, number = genre_and_number(track_id)
        audio = set_dir / genre / f"{number}{AUDIO_SUFFIX}"
        probed = probed_times(result, durations, item_id, audio)
        if probed is None:
            continue
        duration, times = probed
        mean = np.mean(np.array(track_ratings), axis=0)
        result.items.append(
            LabelledItem(
                set_name=NAME,
                item_id=item_id,
                group=item_id,
                audio=audio,
                times_s=times,
                targets=constant_targets(times, float(mean[0]), float(mean[1])),
                target_kind=CONTINUOUS,
                confidence=len(track_ratings) / most_raters,
                official_split=None,
                duration_s=duration,
            )
        )
    for genre, offset in GENRE_OFFSETS.items():
        folder = set_dir / genre
        for path in sorted(folder.glob(f"*{AUDIO_SUFFIX}")) if folder.is_dir() else []:
            if path.stem.isdigit() and int(path.stem) + offset not in ratings:
                result.problem(
                    str(int(path.stem) + offset),
                    f"audio {genre}/{path.name} has no rating; not used",
                )
    result.items = sorted(result.items, key=lambda item: int(item.item_id))
    return result
