"""Label-aligned excerpt features of each song, from the shared extractor, cached on disk.

Each example is the (60, 68) feature matrix of the excerpt ending at its label time, normalised on
its own (policy "excerpt", exactly what the live pipeline computes). `reference=True` computes the
same excerpts with pyAudioAnalysis itself, for comparison.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from music_mood_core import features as core_features
from music_mood_core.audio import decode_file
from music_mood_core.model_contract import N_FEATURES, NORMALISATION_EXCERPT
from numpy.typing import NDArray
from tqdm import tqdm

from .config import LABEL_TIMES_S, SAMPLE_RATE, SEQUENCE_LENGTH, STEP_S, WINDOW_S
from .dataset import EmoMusicDataset

CACHE_ENV = "MUSIC_MOOD_CACHE"
REFERENCE_EXTRACTOR = "pyAudioAnalysis-0.3.14-reference"


def default_cache_dir() -> Path:
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override).expanduser()
    return Path.home() / ".cache" / "music_mood" / "features"


def frame_grid() -> core_features.FrameGrid:
    return core_features.FrameGrid.from_seconds(SAMPLE_RATE, WINDOW_S, STEP_S)


def decode_audio(path: Path, sample_rate: int = SAMPLE_RATE) -> NDArray[np.int16]:
    """Mono int16 PCM through the same ffmpeg argument list as live."""

    return np.asarray(decode_file(path, sample_rate), dtype=np.int16)


def reference_excerpt_features(
    samples: NDArray[np.int16], times_s: Sequence[float], grid: core_features.FrameGrid
) -> NDArray[np.float64]:
    """pyAudioAnalysis ShortTermFeatures on each label's excerpt (the slow reference)."""
    from pyAudioAnalysis import ShortTermFeatures  # noqa: PLC0415 - heavy, reference only

    out = np.empty((len(times_s), SEQUENCE_LENGTH, N_FEATURES))
    for k, time_s in enumerate(times_s):
        start, end = core_features.excerpt_bounds(time_s, grid.sample_rate, grid, SEQUENCE_LENGTH)
        excerpt = samples[start:end].astype(np.float64)
        matrix, _ = ShortTermFeatures.feature_extraction(
            excerpt, grid.sample_rate, grid.window, grid.step, deltas=True
        )
        out[k] = matrix.T
    return out


@dataclass(frozen=True)
class SongFeatures:
    """Features of the label times that fit inside the clip (a short clip loses its last labels)."""

    song_id: int
    features: NDArray[np.float32]  # (n_valid, 60, 68)
    times_s: NDArray[np.float64]  # (n_valid,)

    @property
    def n_valid(self) -> int:
        return len(self.times_s)


class FeatureExtractor:
    """Decodes a song, extracts its label-aligned excerpt features, caches them keyed by content."""

    def __init__(self, cache_dir: Path | None = None, reference: bool = False) -> None:
        self.cache_dir = cache_dir if cache_dir is not None else default_cache_dir()
        self.reference = reference
        self.grid = frame_grid()

    @property
    def extractor_name(self) -> str:
        return REFERENCE_EXTRACTOR if self.reference else core_features.EXTRACTOR_VERSION

    def cache_key(self, audio_path: Path) -> str:
        digest = hashlib.sha256(audio_path.read_bytes()).hexdigest()
        settings = json.dumps(
            {
                "audio_sha256": digest,
                "extractor": self.extractor_name,
                "sample_rate": self.grid.sample_rate,
                "window": self.grid.window,
                "step": self.grid.step,
                "sequence_length": SEQUENCE_LENGTH,
                "normalisation": NORMALISATION_EXCERPT,
                "times_s": list(LABEL_TIMES_S),
            },
            sort_keys=True,
        )
        return hashlib.sha256(settings.encode()).hexdigest()[:32]

    def compute(self, song_id: int, audio_path: Path) -> SongFeatures:
        samples = decode_audio(audio_path, self.grid.sample_rate)
        times = np.array(
            [
                t
                for t in LABEL_TIMES_S
                if core_features.excerpt_bounds(t, self.grid.sample_rate, self.grid)[1]
                <= samples.size
            ]
        )
        if self.reference:
            matrices = reference_excerpt_features(samples, list(times), self.grid)
        else:
            matrices = core_features.label_excerpt_features(samples, self.grid, times)
        return SongFeatures(song_id, matrices.astype(np.float32), times)

    def song_features(self, song_id: int, audio_path: Path) -> SongFeatures:
        path = self.cache_dir / f"{self.cache_key(audio_path)}.npz"
        if path.is_file():
            with np.load(path) as cached:
                return SongFeatures(song_id, cached["features"], cached["times_s"])
        result = self.compute(song_id, audio_path)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(partial, features=result.features, times_s=result.times_s)
        partial.replace(path)  # atomic, so parallel runs never read half a file
        return result

    def dataset_features(
        self, dataset: EmoMusicDataset, song_ids: Sequence[int], progress: bool = True
    ) -> dict[int, SongFeatures]:
        out: dict[int, SongFeatures] = {}
        for song_id in tqdm(song_ids, desc="features", unit="song", disable=not progress):
            audio = dataset.songs[song_id].audio_path
            if audio is None:
                raise ValueError(f"song {song_id} has no audio")
            out[song_id] = self.song_features(song_id, audio)
        return out


@dataclass(frozen=True)
class Examples:
    """Stacked examples of a set of songs: inputs, labels per target, and where they came from."""

    features: NDArray[np.float32]  # (n, 60, 68)
    labels: dict[str, NDArray[np.float64]]  # target -> (n,)
    song_ids: NDArray[np.int64]
    times_s: NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.song_ids)


def build_examples(
    dataset: EmoMusicDataset, songs: dict[int, SongFeatures], song_ids: Sequence[int]
) -> Examples:
    label_times = np.array(LABEL_TIMES_S)
    features, ids, times = [], [], []
    labels: dict[str, list[NDArray[np.float64]]] = {"valence": [], "arousal": []}
    for song_id in song_ids:
        song = songs[song_id]
        columns = np.searchsorted(label_times, song.times_s)
        features.append(song.features)
        ids.append(np.full(song.n_valid, song_id, dtype=np.int64))
        times.append(song.times_s)
        for target, values in labels.items():
            values.append(dataset.songs[song_id].labels(target)[columns])
    if not features:
        return Examples(
            np.zeros((0, SEQUENCE_LENGTH, N_FEATURES), dtype=np.float32),
            {t: np.zeros(0) for t in labels},
            np.zeros(0, dtype=np.int64),
            np.zeros(0),
        )
    return Examples(
        features=np.concatenate(features),
        labels={t: np.concatenate(v) for t, v in labels.items()},
        song_ids=np.concatenate(ids),
        times_s=np.concatenate(times),
    )
