"""Every live excerpt of an audio file (one per 0.5 s hop), computed once and cached on disk.

The default model trains and is evaluated on exactly what the live pipeline computes: the (60, 68)
features of the 3 s excerpt ending at each hop, normalised on their own, and the per-frame levels
of the same raw samples. Both come from ``music_mood_core.features``; the cache is keyed by the
audio's content hash and the extractor version, so labels can change without re-extracting.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from music_mood_core import features as core_features
from music_mood_core.model_contract import N_FEATURES
from numpy.typing import NDArray

from .config import HOP_S, SAMPLE_RATE, SEQUENCE_LENGTH
from .features import decode_audio, frame_grid

CACHE_VERSION = f"{core_features.EXTRACTOR_VERSION}+levels1/hop{HOP_S}/sr{SAMPLE_RATE}"


@dataclass(frozen=True)
class Excerpts:
    """All hop excerpts of one file: end times, features and raw frame levels."""

    times_s: NDArray[np.float64]  # (n,) excerpt end times: 3.0, 3.5, ...
    features: NDArray[np.float32]  # (n, 60, 68)
    levels: NDArray[np.float32]  # (n, 60) dBFS

    def at(self, times_s: NDArray[np.float64]) -> NDArray[np.int64]:
        """Row index of each requested end time (-1 where the file holds no such excerpt)."""
        return rows_at(self.times_s, times_s)


def rows_at(
    end_times_s: NDArray[np.float64], wanted_s: NDArray[np.float64], hop_s: float = HOP_S
) -> NDArray[np.int64]:
    """Row of each wanted end time among ``end_times_s``, matched on the hop grid (-1: none)."""
    index = {round(float(t) / hop_s): k for k, t in enumerate(end_times_s)}
    return np.array([index.get(round(float(t) / hop_s), -1) for t in wanted_s], np.int64)


def labelled_and_covered(
    targets: NDArray[np.floating], rows: NDArray[np.int64]
) -> NDArray[np.int64]:
    """Indices of the label times that are scored: at least one axis labelled, and an excerpt
    ending there (``rows`` from :func:`rows_at`, -1 where none)."""
    covered: NDArray[np.int64] = np.nonzero(~np.isnan(targets).all(axis=1) & (rows >= 0))[0]
    return covered


def _content_key(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    digest.update(CACHE_VERSION.encode())
    return digest.hexdigest()[:32]


def hop_times(n_samples: int, sample_rate: int = SAMPLE_RATE) -> NDArray[np.float64]:
    """End times of every full excerpt at the hops the live stream emits (3.0 s, 3.5 s, ...)."""
    grid = frame_grid()
    hop = round(HOP_S * sample_rate)
    first = -(-grid.excerpt_samples(SEQUENCE_LENGTH) // hop)  # first hop holding a full excerpt
    last = n_samples // hop
    return np.arange(first, last + 1, dtype=np.float64) * hop / sample_rate


def compute_excerpts(samples: NDArray[np.int16]) -> Excerpts:
    grid = frame_grid()
    times = hop_times(samples.size)
    if times.size == 0:
        empty = np.zeros((0, SEQUENCE_LENGTH, N_FEATURES), np.float32)
        return Excerpts(times, empty, np.zeros((0, SEQUENCE_LENGTH), np.float32))
    features = core_features.label_excerpt_features(samples, grid, times, SEQUENCE_LENGTH)
    levels = core_features.label_excerpt_levels(samples, grid, times, SEQUENCE_LENGTH)
    return Excerpts(times, features.astype(np.float32), levels.astype(np.float32))


def cached_excerpts(audio: Path, cache_dir: Path) -> Excerpts:
    """Excerpts of ``audio`` from the cache, computing (decode + features) on a miss."""
    path = cache_dir / f"{_content_key(audio)}.npz"
    if path.is_file():
        with np.load(path) as data:
            return Excerpts(data["times_s"], data["features"], data["levels"])
    excerpts = compute_excerpts(decode_audio(audio, SAMPLE_RATE))
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial.npz")
    np.savez(partial, times_s=excerpts.times_s, features=excerpts.features, levels=excerpts.levels)
    partial.replace(path)
    return excerpts
