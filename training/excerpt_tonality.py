"""How major or minor an excerpt sounds: its mean chroma against the 24 key profiles.

Mode is a valence cue that the feature means cannot give an MLP trained on a few thousand items:
the same mode in another key is a rotation of the chroma vector, which a network would have to
learn for each of the 12 keys. Correlating the excerpt's mean chroma with every rotation of a major
and a minor key profile (Krumhansl and Kessler's probe-tone ratings) and keeping the best of each
mode is the same in every key: a linear map, a normalisation and a maximum.

Two chroma sources, to tell whether the cue is in the music or only in a correct chroma:

- the reference extractor's 12 chroma features (the model's own ``features`` input, so a format-2
  graph could compute this);
- a chroma of the excerpt's own audio: 186 ms Hann frames (4096 samples at 22.05 kHz), each
  bin from 80 Hz to 4 kHz added to its nearest pitch class, which the current inputs do not carry
  (a new input, i.e. a new model format, if it were shipped).
"""

from __future__ import annotations

import numpy as np
from music_mood_core.features import FEATURE_NAMES
from numpy.typing import NDArray

# Krumhansl and Kessler (1982), probe-tone ratings from the tonic up, one semitone per entry.
MAJOR_PROFILE = (6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88)
MINOR_PROFILE = (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17)
REFERENCE_CHROMA_COLUMNS = tuple(FEATURE_NAMES.index(f"chroma_{i}") for i in range(1, 13))

STFT_WINDOW = 4096
STFT_HOP = 2048
STFT_BAND_HZ = (80.0, 4000.0)
MIDDLE_C_HZ = 261.6256  # pitch class 0 (equal temperament, A4 = 440 Hz)
EXCERPT_S = 3.0


def key_profiles() -> NDArray[np.float64]:
    """(12, 24): centred, unit-norm major then minor profiles on each of the 12 tonics."""
    columns = []
    for profile in (MAJOR_PROFILE, MINOR_PROFILE):
        base = np.asarray(profile, np.float64)
        for tonic in range(12):
            rotated = np.roll(base, tonic)
            centred = rotated - rotated.mean()
            columns.append(centred / np.linalg.norm(centred))
    return np.stack(columns, axis=1)


def mode_statistics(chroma: NDArray[np.floating], floor: float = 1e-12) -> NDArray[np.float64]:
    """(n, 12) mean chroma -> (n, 3): the best major key's correlation, the best minor key's, and
    their difference (Pearson correlations with the profiles)."""
    values = np.asarray(chroma, np.float64)
    centred = values - values.mean(axis=1, keepdims=True)
    norm = np.sqrt((centred * centred).sum(axis=1, keepdims=True)) + floor
    correlations = (centred / norm) @ key_profiles()
    major = correlations[:, :12].max(axis=1)
    minor = correlations[:, 12:].max(axis=1)
    return np.stack([major, minor, major - minor], axis=1)


def reference_chroma(features: NDArray[np.floating]) -> NDArray[np.float64]:
    """(n, frames, 68) -> (n, 12): the reference extractor's chroma, averaged over the frames."""
    columns = list(REFERENCE_CHROMA_COLUMNS)
    chroma: NDArray[np.float64] = np.asarray(features, np.float64)[:, :, columns].mean(axis=1)
    return chroma


def pitch_class_map(sample_rate: int) -> NDArray[np.float64]:
    """(bins, 12): each STFT bin inside the band to its nearest pitch class (C = 0)."""
    freqs = np.fft.rfftfreq(STFT_WINDOW, 1.0 / sample_rate)
    low, high = STFT_BAND_HZ
    inside = (freqs >= low) & (freqs <= high)
    classes = np.round(12 * np.log2(freqs[inside] / MIDDLE_C_HZ)).astype(int) % 12
    mapping = np.zeros((freqs.size, 12))
    mapping[np.nonzero(inside)[0], classes] = 1.0
    return mapping


def audio_chroma(
    samples: NDArray[np.generic], sample_rate: int, end_times_s: NDArray[np.floating]
) -> NDArray[np.float64]:
    """(n,) excerpt end times -> (n, 12): mean power chroma of the STFT frames inside each
    excerpt (zeros where none fits)."""
    signal = np.asarray(samples, np.float64)
    chroma = np.zeros((len(end_times_s), 12))
    if signal.size < STFT_WINDOW:
        return chroma
    frames = np.lib.stride_tricks.sliding_window_view(signal, STFT_WINDOW)[::STFT_HOP]
    power = np.abs(np.fft.rfft(frames * np.hanning(STFT_WINDOW), axis=1)) ** 2
    frame_chroma = power @ pitch_class_map(sample_rate)
    starts = np.arange(len(frames)) * STFT_HOP / sample_rate
    ends = starts + STFT_WINDOW / sample_rate
    for row, end in enumerate(np.asarray(end_times_s, np.float64)):
        inside = (starts >= end - EXCERPT_S) & (ends <= end)
        if inside.any():
            chroma[row] = frame_chroma[inside].mean(axis=0)
    return chroma
