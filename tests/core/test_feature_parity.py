"""Our features against pyAudioAnalysis 0.3.14 itself, on real music and on edge signals.

Only ``ShortTermFeatures`` is used from the reference; audio is decoded by our own ffmpeg path so
both sides see identical samples.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

ShortTermFeatures = pytest.importorskip("pyAudioAnalysis.ShortTermFeatures")

from music_mood_core.audio import decode_file  # noqa: E402
from music_mood_core.features import (  # noqa: E402
    FEATURE_NAMES,
    FrameGrid,
    SignalTooShortError,
    StreamingFeatureExtractor,
    excerpt_bounds,
    excerpt_features,
    extract_features,
    label_excerpt_features,
    whole_signal_normalisation,
)

from tests.data_paths import EMOMUSIC_DIR, LIBROSA_CC_DIR, require_data  # noqa: E402

# Absolute 1e-11 covers values that are ~0 (deltas, flux); relative 1e-9 everything else.
RTOL = 1e-9
ATOL = 1e-11
SAMPLE_RATES = (22050, 44100)
PARITY_SECONDS = 30
CLIPS = (
    EMOMUSIC_DIR / "clips_45s" / "2.mp3",
    EMOMUSIC_DIR / "clips_45s" / "13.mp3",
    LIBROSA_CC_DIR / "Kevin_MacLeod_-_Vibe_Ace.ogg",
    LIBROSA_CC_DIR / "Hungarian_Dance_number_5_-_Allegro_in_F_sharp_minor_(string_orchestra).ogg",
    LIBROSA_CC_DIR / "sorohanro_-_solo-trumpet-06.ogg",  # only 5.3 s long: used whole
)


@cache
def decoded(path: Path, sample_rate: int) -> NDArray[np.int16]:
    return decode_file(require_data(path), sample_rate)


def reference(samples: NDArray[np.generic], sample_rate: int) -> NDArray[np.float64]:
    window = int(0.05 * sample_rate)
    matrix, names = ShortTermFeatures.feature_extraction(
        samples, sample_rate, window, window, deltas=True
    )
    assert tuple(names) == FEATURE_NAMES
    return np.asarray(matrix, dtype=np.float64).T


def assert_matches(ours: NDArray[np.float64], theirs: NDArray[np.float64]) -> None:
    assert ours.shape == theirs.shape
    mismatched = ~np.isclose(ours, theirs, rtol=RTOL, atol=ATOL)
    if mismatched.any():
        frames, columns = np.nonzero(mismatched)
        names = sorted({FEATURE_NAMES[c] for c in columns})
        pytest.fail(f"{mismatched.sum()} values differ (features {names}, first frame {frames[0]})")


@pytest.mark.parametrize("sample_rate", SAMPLE_RATES)
@pytest.mark.parametrize("clip", CLIPS, ids=lambda p: p.stem[:24])
def test_real_music_matches_reference_on_every_frame(clip: Path, sample_rate: int) -> None:
    whole = decoded(clip, sample_rate)
    samples = whole[: PARITY_SECONDS * sample_rate]
    assert samples.size == min(whole.size, PARITY_SECONDS * sample_rate) > 5 * sample_rate
    assert_matches(extract_features(samples, sample_rate), reference(samples, sample_rate))


def _sine(
    sample_rate: int, seconds: float, frequency: float, amplitude: float
) -> NDArray[np.float64]:
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    return amplitude * np.sin(2 * np.pi * frequency * t)


def edge_signal(kind: str, sample_rate: int) -> NDArray[np.generic]:
    rng = np.random.default_rng(20130)
    n = 2 * sample_rate
    if kind == "digital_silence":
        return np.zeros(n, dtype=np.int16)
    if kind == "constant_dc":
        return np.full(n, 1234, dtype=np.int16)
    if kind == "sine_440":
        return np.round(_sine(sample_rate, 2, 440.0, 12000.0)).astype(np.int16)
    if kind == "white_noise":
        return rng.integers(-20000, 20000, n).astype(np.int16)
    if kind == "hard_clipping":
        return np.clip(np.round(_sine(sample_rate, 2, 220.0, 90000.0)), -32768, 32767).astype(
            np.int16
        )
    if kind == "float_input_int16_scale":
        return _sine(sample_rate, 2, 1000.0, 5000.0) + rng.normal(0, 300, n)
    if kind == "exactly_one_window":
        return rng.integers(-3000, 3000, int(0.05 * sample_rate)).astype(np.int16)
    if kind == "one_sample_short_of_two_frames":
        window = int(0.05 * sample_rate)
        return rng.integers(-3000, 3000, 2 * window - 1).astype(np.int16)
    if kind == "sparse_clicks_with_zeros":
        clicks = np.zeros(n, dtype=np.int16)
        clicks[:: sample_rate // 7] = 30000
        return clicks
    raise AssertionError(kind)


EDGE_KINDS = (
    "digital_silence",
    "constant_dc",
    "sine_440",
    "white_noise",
    "hard_clipping",
    "float_input_int16_scale",
    "exactly_one_window",
    "one_sample_short_of_two_frames",
    "sparse_clicks_with_zeros",
)


@pytest.mark.parametrize("sample_rate", SAMPLE_RATES)
@pytest.mark.parametrize("kind", EDGE_KINDS)
def test_edge_signals_match_reference(kind: str, sample_rate: int) -> None:
    samples = edge_signal(kind, sample_rate)
    ours = extract_features(samples, sample_rate)
    assert np.all(np.isfinite(ours))
    assert_matches(ours, reference(samples, sample_rate))


@pytest.mark.parametrize("sample_rate", SAMPLE_RATES)
def test_shorter_than_one_window_is_a_clear_error(sample_rate: int) -> None:
    samples = np.ones(int(0.05 * sample_rate) - 1, dtype=np.int16)
    with pytest.raises(ValueError, match="concatenate"):  # the reference fails less clearly
        reference(samples, sample_rate)
    with pytest.raises(SignalTooShortError, match="shorter than one analysis window"):
        extract_features(samples, sample_rate)


@pytest.mark.parametrize("sample_rate", SAMPLE_RATES)
def test_excerpts_match_reference_run_on_the_excerpt(sample_rate: int) -> None:
    grid = FrameGrid.from_seconds(sample_rate)
    samples = decoded(CLIPS[0], sample_rate)
    times = [15.0, 27.5, 45.0]
    batch = label_excerpt_features(samples, grid, times)
    for time_s, features in zip(times, batch, strict=True):
        start, end = excerpt_bounds(time_s, sample_rate, grid)
        excerpt = samples[start:end]
        theirs = reference(excerpt, sample_rate)
        assert theirs.shape == (60, 68)
        assert_matches(excerpt_features(excerpt, grid), theirs)
        assert_matches(features, theirs)


@pytest.mark.parametrize("sample_rate", SAMPLE_RATES)
def test_streaming_with_whole_signal_normalisation_matches_reference(sample_rate: int) -> None:
    grid = FrameGrid.from_seconds(sample_rate)
    samples = decoded(CLIPS[2], sample_rate)[: 10 * sample_rate]
    extractor = StreamingFeatureExtractor(grid, *whole_signal_normalisation(samples))
    rng = np.random.default_rng(7)
    pieces = []
    position = 0
    while position < samples.size:
        size = int(rng.integers(1, 3 * grid.window))
        pieces.append(extractor.push(samples[position : position + size]))
        position += size
    assert_matches(np.concatenate(pieces), reference(samples, sample_rate))
