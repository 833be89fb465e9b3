"""PCM in, one valence/arousal reading per hop out: the one path from audio to a model's readings.

The live analyser, the ``analyze`` action and ``training/predict`` all go through here, so every
reading is computed the same way: the model's own frame grid, excerpt length and hop (its
metadata, via ``ModelInfo.excerpt_stream``), its own format (format 2 also gets each excerpt's raw
frame levels) and the same float32 batch. The live analyser calls :func:`timeline_step` with each
hop it reads; whole files go through :func:`timeline`, which feeds the same stream in chunks of
several hops so that memory holds one chunk's features, never the whole file's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .features import ExcerptStream, ExcerptWindow
from .model import MoodModel

# Hops analysed per model call in :func:`timeline`: few calls, a few seconds of features in memory.
TIMELINE_CHUNK_HOPS: Final = 32


@dataclass(frozen=True, slots=True)
class Timeline:
    """Readings of consecutive excerpts, each identified by the sample where it ends.

    ``valence`` and ``arousal`` are the model's outputs (float32, clipped to [-1, 1]);
    ``level_dbfs`` is the RMS level of each excerpt's newest hop, what silence detection uses.
    """

    sample_rate: int
    end_samples: NDArray[np.int64]
    valence: NDArray[np.float32]
    arousal: NDArray[np.float32]
    level_dbfs: NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.end_samples.size)

    @property
    def times_s(self) -> NDArray[np.float64]:
        """Excerpt end times in seconds: when the live analyser would publish each reading."""
        times: NDArray[np.float64] = self.end_samples / np.float64(self.sample_rate)
        return times

    @classmethod
    def empty(cls, sample_rate: int) -> Timeline:
        return cls(
            sample_rate,
            np.zeros(0, np.int64),
            np.zeros(0, np.float32),
            np.zeros(0, np.float32),
            np.zeros(0, np.float64),
        )

    @classmethod
    def joined(cls, sample_rate: int, parts: Iterable[Timeline]) -> Timeline:
        """One timeline of consecutive parts (all at ``sample_rate``)."""
        pieces = [part for part in parts if len(part)]
        if any(part.sample_rate != sample_rate for part in pieces):
            raise ValueError(f"every part must be at {sample_rate} Hz")
        if not pieces:
            return cls.empty(sample_rate)
        return cls(
            sample_rate,
            np.concatenate([part.end_samples for part in pieces]),
            np.concatenate([part.valence for part in pieces]),
            np.concatenate([part.arousal for part in pieces]),
            np.concatenate([part.level_dbfs for part in pieces]),
        )


def predict_windows(model: MoodModel, windows: Sequence[ExcerptWindow]) -> Timeline:
    """The model's readings of excerpt windows (from a stream built by ``model.info``), one call."""
    sample_rate = int(model.info.sample_rate)
    if not windows:
        return Timeline.empty(sample_rate)
    features = np.stack([window.features for window in windows]).astype(np.float32)
    loudness = np.stack([window.frame_levels_dbfs for window in windows]).astype(np.float32)
    # Format 1 models ignore the loudness; passing it always keeps one call for both formats.
    outputs = model.predict(features, loudness)
    return Timeline(
        sample_rate,
        np.array([window.end_sample for window in windows], dtype=np.int64),
        np.ascontiguousarray(outputs[:, 0]),
        np.ascontiguousarray(outputs[:, 1]),
        np.array([window.level_dbfs for window in windows], dtype=np.float64),
    )


def timeline_step(stream: ExcerptStream, model: MoodModel, pcm: ArrayLike) -> Timeline:
    """Push int16 PCM into ``stream`` and read every excerpt it completes (possibly none).

    ``stream`` comes from ``model.info.excerpt_stream()`` and keeps its position between calls,
    so any split of the audio into chunks yields the same excerpts.
    """
    return predict_windows(model, stream.push(pcm))


def timeline(
    samples: ArrayLike, model: MoodModel, *, chunk_hops: int = TIMELINE_CHUNK_HOPS
) -> Timeline:
    """Readings of every hop of a whole signal: int16 mono PCM at ``model.info.sample_rate``.

    Equal (to float rounding of batched inference) to feeding the same PCM hop by hop through
    :func:`timeline_step`, as the live analyser does. Shorter than one excerpt: an empty timeline.
    """
    if chunk_hops < 1:
        raise ValueError(f"chunk_hops must be at least 1 (got {chunk_hops})")
    pcm = np.asarray(samples)
    if pcm.ndim != 1:
        raise ValueError(f"samples must be 1-D (mono), got shape {pcm.shape}")
    stream = model.info.excerpt_stream()
    chunk = stream.hop_samples * chunk_hops
    return Timeline.joined(
        int(model.info.sample_rate),
        (
            timeline_step(stream, model, pcm[start : start + chunk])
            for start in range(0, pcm.size, chunk)
        ),
    )
