"""The 1000 Songs for Emotional Analysis of Music dataset as distributed (MediaEval 2013 layout).

Expected layout::

    DATASET/
        annotations/
            songs_info.csv              song_id, ..., Genre, Mediaeval 2013 set
            static_annotations.csv      song_id, mean_arousal, std_arousal, mean_valence, ...
            arousal_cont_average.csv    song_id, sample_15000ms, ..., sample_45000ms
            valence_cont_average.csv    song_id, sample_15000ms, ..., sample_45000ms
        clips_45seconds/ (or clips_45s/, clips/)
            <song_id>.mp3

Valence and arousal come from these files, never from DEAM's re-release (whose static file swaps the
two columns for these songs).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from .config import LABEL_TIMES_S, VALIDATION_SEED, VALIDATION_SONGS

ANNOTATIONS_DIR = "annotations"
SONGS_INFO = "songs_info.csv"
STATIC_ANNOTATIONS = "static_annotations.csv"
CONTINUOUS_FILES = {"arousal": "arousal_cont_average.csv", "valence": "valence_cont_average.csv"}
CLIP_DIR_CANDIDATES = ("clips_45seconds", "clips_45s", "clips")
SET_COLUMN = "Mediaeval 2013 set"
GENRE_COLUMN = "Genre"
DEVELOPMENT = "development"
EVALUATION = "evaluation"


class DatasetError(Exception):
    """The dataset folder is missing or malformed; the message is meant for the user as is."""


@dataclass(frozen=True)
class Song:
    """One annotated song: labels at `LABEL_TIMES_S` and, when present, its audio file."""

    song_id: int
    genre: str
    mediaeval_set: str
    valence: NDArray[np.float64]
    arousal: NDArray[np.float64]
    static_valence: float
    static_arousal: float
    audio_path: Path | None

    def labels(self, target: str) -> NDArray[np.float64]:
        return self.valence if target == "valence" else self.arousal


@dataclass(frozen=True)
class Splits:
    """Song ids of each split, in songs_info.csv order."""

    train: tuple[int, ...]
    validation: tuple[int, ...]
    evaluation: tuple[int, ...]
    development: tuple[int, ...]


def _read_csv(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        raise DatasetError(f"missing annotation file: {path}")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
        header = reader.fieldnames or []
    if "song_id" not in [name.strip() for name in header]:
        raise DatasetError(f"{path.name} has no song_id column (header: {', '.join(header)})")
    # Some distributed files pad names and values with spaces or tabs.
    return [
        {key.strip(): (value or "").strip() for key, value in row.items() if key is not None}
        for row in rows
    ]


def _song_id(row: dict[str, str], path: Path) -> int:
    try:
        return int(row["song_id"])
    except ValueError as err:
        raise DatasetError(f"{path.name}: song_id {row['song_id']!r} is not an integer") from err


def _read_continuous(path: Path) -> dict[int, NDArray[np.float64]]:
    rows = _read_csv(path)
    expected = [f"sample_{round(t * 1000)}ms" for t in LABEL_TIMES_S]
    if rows and not set(expected) <= set(rows[0]):
        raise DatasetError(
            f"{path.name}: expected columns sample_15000ms ... sample_45000ms at 0.5 s steps"
        )
    labels: dict[int, NDArray[np.float64]] = {}
    for row in rows:
        try:
            values = np.array([float(row[column]) for column in expected], dtype=np.float64)
        except ValueError as err:
            raise DatasetError(f"{path.name}: non-numeric label for song {row['song_id']}") from err
        labels[_song_id(row, path)] = values
    return labels


def find_clip_dir(root: Path) -> Path | None:
    for name in CLIP_DIR_CANDIDATES:
        if (root / name).is_dir():
            return root / name
    return None


class EmoMusicDataset:
    """Loader for the dataset folder; labels for every song, audio paths where the files exist."""

    def __init__(self, root: Path, songs: dict[int, Song], clip_dir: Path | None) -> None:
        self.root = root
        self.songs = songs
        self.clip_dir = clip_dir

    @classmethod
    def load(cls, root: Path | str, clip_dir: Path | str | None = None) -> EmoMusicDataset:
        root = Path(root).expanduser()
        if not root.is_dir():
            raise DatasetError(f"dataset folder not found: {root}")
        annotations = root / ANNOTATIONS_DIR
        if not annotations.is_dir():
            raise DatasetError(f"{root} has no '{ANNOTATIONS_DIR}' folder (see docs/TRAINING.md)")
        clips = Path(clip_dir).expanduser() if clip_dir is not None else find_clip_dir(root)
        if clip_dir is not None and (clips is None or not clips.is_dir()):
            raise DatasetError(f"clip folder not found: {clip_dir}")

        info_path = annotations / SONGS_INFO
        info_rows = _read_csv(info_path)
        for column in (GENRE_COLUMN, SET_COLUMN):
            if info_rows and column not in info_rows[0]:
                raise DatasetError(f"{SONGS_INFO} has no '{column}' column")
        static_path = annotations / STATIC_ANNOTATIONS
        static = {_song_id(row, static_path): row for row in _read_csv(static_path)}
        continuous = {
            target: _read_continuous(annotations / name)
            for target, name in CONTINUOUS_FILES.items()
        }

        songs: dict[int, Song] = {}
        for row in info_rows:
            song_id = _song_id(row, info_path)
            if song_id in songs:
                raise DatasetError(f"{SONGS_INFO}: song {song_id} is listed twice")
            if song_id not in continuous["valence"] or song_id not in continuous["arousal"]:
                raise DatasetError(f"song {song_id} has no continuous valence/arousal annotation")
            mediaeval_set = row[SET_COLUMN].lower()
            if mediaeval_set not in (DEVELOPMENT, EVALUATION):
                raise DatasetError(f"song {song_id}: unknown {SET_COLUMN} {row[SET_COLUMN]!r}")
            static_row = static.get(song_id, {})
            audio = clips / f"{song_id}.mp3" if clips is not None else None
            songs[song_id] = Song(
                song_id=song_id,
                genre=row[GENRE_COLUMN],
                mediaeval_set=mediaeval_set,
                valence=continuous["valence"][song_id],
                arousal=continuous["arousal"][song_id],
                static_valence=float(static_row.get("mean_valence", "nan") or "nan"),
                static_arousal=float(static_row.get("mean_arousal", "nan") or "nan"),
                audio_path=audio if audio is not None and audio.is_file() else None,
            )
        if not songs:
            raise DatasetError(f"{SONGS_INFO} lists no songs")
        return cls(root, songs, clips)

    @property
    def song_ids(self) -> tuple[int, ...]:
        return tuple(self.songs)

    def ids_in_set(self, mediaeval_set: str) -> tuple[int, ...]:
        return tuple(i for i, song in self.songs.items() if song.mediaeval_set == mediaeval_set)

    def splits(
        self, validation_songs: int = VALIDATION_SONGS, seed: int = VALIDATION_SEED
    ) -> Splits:
        """Official development/evaluation sets; validation drawn from development by genre.

        The split is computed on the labels of every song (they are always all present), so it is
        the same whether or not the audio of a song has been downloaded.
        """

        development = list(self.ids_in_set(DEVELOPMENT))
        genres = [self.songs[i].genre for i in development]
        n_genres = len(set(genres))
        if len(development) - validation_songs < n_genres or validation_songs < n_genres:
            # A label subset too small to stratify: keep it deterministic instead.
            rng = np.random.default_rng(seed)
            picked = set(
                rng.permutation(development)[: min(validation_songs, len(development) // 5)]
            )
            train = [i for i in development if i not in picked]
            validation = [i for i in development if i in picked]
        else:
            # scikit-learn loads here only: the data-root helpers import this module in the
            # Home Assistant test environments, which do not have it.
            from sklearn.model_selection import train_test_split  # noqa: PLC0415

            train, validation = train_test_split(
                development, test_size=validation_songs, stratify=genres, random_state=seed
            )
        order = {song_id: k for k, song_id in enumerate(self.songs)}
        return Splits(
            train=tuple(sorted(train, key=order.__getitem__)),
            validation=tuple(sorted(validation, key=order.__getitem__)),
            evaluation=self.ids_in_set(EVALUATION),
            development=tuple(development),
        )

    def with_audio(self, song_ids: Iterable[int]) -> tuple[int, ...]:
        return tuple(i for i in song_ids if self.songs[i].audio_path is not None)

    def missing_audio(self, song_ids: Iterable[int]) -> tuple[int, ...]:
        return tuple(i for i in song_ids if self.songs[i].audio_path is None)

    def labels(self, song_ids: Sequence[int], target: str) -> NDArray[np.float64]:
        """Labels of the songs stacked as (n_songs, 61)."""
        return np.stack([self.songs[i].labels(target) for i in song_ids])
