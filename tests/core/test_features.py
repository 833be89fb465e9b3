"""Extractor contracts needing no reference library: grid, excerpts, streaming == offline."""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import pytest
from music_mood_core.audio import decode_file
from music_mood_core.features import (
    EXTRACTOR_VERSION,
    FEATURE_NAMES,
    ExcerptStream,
    FrameGrid,
    SignalTooShortError,
    StreamingFeatureExtractor,
    excerpt_bounds,
    excerpt_features,
    extract_features,
    extract_features_with_normalisation,
    label_excerpt_features,
    level_dbfs,
    whole_signal_normalisation,
)
from music_mood_core.model_contract import N_FEATURES, NORMALISATION_EXCERPT
from numpy.typing import NDArray

from tests.data_paths import EMOMUSIC_DIR, LIBROSA_CC_DIR, require_data

SAMPLE_RATES = (22050, 44100)
# Streaming and offline run the same arithmetic on the same samples; only BLAS blocking of the
# matrix products may differ with the batch size, by a few ulps.
STREAM_RTOL = 1e-12
STREAM_ATOL = 1e-13


@cache
def clip(sample_rate: int, name: str = "2.mp3") -> NDArray[np.int16]:
    return decode_file(require_data(EMOMUSIC_DIR / "clips_45s" / name), sample_rate)


@cache
def cc_clip(sample_rate: int) -> NDArray[np.int16]:
    return decode_file(require_data(LIBROSA_CC_DIR / "Kevin_MacLeod_-_Vibe_Ace.ogg"), sample_rate)


def random_chunks(
    samples: NDArray[np.int16], rng: np.random.Generator, sizes: tuple[int, ...]
) -> list[NDArray[np.int16]]:
    """Split into chunks whose sizes are drawn from ``sizes`` (covering 1 sample up to > a hop)."""
    chunks = []
    position = 0
    while position < samples.size:
        size = int(rng.choice(sizes))
        if size > 1:
            size = int(rng.integers(size // 2, size + 1))
        chunks.append(samples[position : position + size])
        position += size
    return chunks


def test_names_and_version() -> None:
    assert N_FEATURES == 68 == len(FEATURE_NAMES) == len(set(FEATURE_NAMES))
    assert FEATURE_NAMES[:8] == (
        "zcr",
        "energy",
        "energy_entropy",
        "spectral_centroid",
        "spectral_spread",
        "spectral_entropy",
        "spectral_flux",
        "spectral_rolloff",
    )
    assert FEATURE_NAMES[8] == "mfcc_1"
    assert FEATURE_NAMES[20] == "mfcc_13"
    assert FEATURE_NAMES[21] == "chroma_1"
    assert FEATURE_NAMES[33] == "chroma_std"
    assert FEATURE_NAMES[34:] == tuple(f"delta {name}" for name in FEATURE_NAMES[:34])
    assert EXTRACTOR_VERSION.startswith("pyAudioAnalysis-0.3.14/")
    assert NORMALISATION_EXCERPT == "excerpt"


def test_grid_truncates_like_pyaudioanalysis() -> None:
    assert FrameGrid.from_seconds(22050) == FrameGrid(22050, 1102, 1102)
    assert FrameGrid.from_seconds(44100) == FrameGrid(44100, 2205, 2205)
    assert FrameGrid.from_seconds(22050, 0.1, 0.05) == FrameGrid(22050, 2205, 1102)
    grid = FrameGrid.from_seconds(22050)
    assert grid.excerpt_samples(60) == 60 * 1102
    assert [grid.n_frames(n) for n in (0, 1101, 1102, 2203, 2204)] == [0, 0, 1, 1, 2]
    with pytest.raises(ValueError, match="positive"):
        FrameGrid(22050, 0, 1102)


def test_excerpt_bounds() -> None:
    grid = FrameGrid.from_seconds(22050)
    assert excerpt_bounds(15.0, 22050, grid) == (330750 - 66120, 330750)
    assert excerpt_bounds(45.0, 22050, grid) == (992250 - 66120, 992250)
    start, end = excerpt_bounds(3.0001, 22050, grid, sequence_length=10)
    assert (start, end) == (round(3.0001 * 22050) - 11020, round(3.0001 * 22050))
    with pytest.raises(ValueError, match="before the signal"):
        excerpt_bounds(2.9, 22050, grid)
    with pytest.raises(ValueError, match="sample rate"):
        excerpt_bounds(15.0, 44100, grid)


def test_too_short_and_malformed_input_are_clear_errors() -> None:
    with pytest.raises(SignalTooShortError, match="1101 samples"):
        extract_features(np.zeros(1101, dtype=np.int16), 22050)
    assert issubclass(SignalTooShortError, ValueError)
    with pytest.raises(ValueError, match="1-D"):
        extract_features(np.zeros((2, 5000), dtype=np.int16), 22050)
    grid = FrameGrid.from_seconds(22050)
    with pytest.raises(ValueError, match="exactly 66120 samples"):
        excerpt_features(np.zeros(66119, dtype=np.int16), grid)


def test_float_input_on_int16_scale_equals_int16_input() -> None:
    samples = clip(22050)[: 5 * 22050]
    np.testing.assert_array_equal(
        extract_features(samples.astype(np.float64), 22050), extract_features(samples, 22050)
    )


@pytest.mark.parametrize("sample_rate", SAMPLE_RATES)
def test_features_are_finite_and_scale_invariant_on_real_music(sample_rate: int) -> None:
    samples = clip(sample_rate)[: 10 * sample_rate]
    features = extract_features(samples, sample_rate)
    assert features.shape == (FrameGrid.from_seconds(sample_rate).n_frames(samples.size), 68)
    assert np.all(np.isfinite(features))
    assert np.all(features[0, 34:] == 0)
    assert features[0, 6] == 0
    # pyAudioAnalysis normalises by the peak: halving the input changes (almost) nothing.
    halved = extract_features(samples.astype(np.float64) / 2, sample_rate)
    np.testing.assert_allclose(halved, features, rtol=1e-6, atol=1e-9)


def test_sine_lands_where_expected() -> None:
    sample_rate = 22050
    t = np.arange(sample_rate) / sample_rate
    sine = np.round(10000 * np.sin(2 * np.pi * 2000.0 * t)).astype(np.int16)
    features = extract_features(sine, sample_rate)
    zcr = features[:, FEATURE_NAMES.index("zcr")]
    # 2 crossings per period: 4000 per second, i.e. 4000 / 22050 per sample.
    np.testing.assert_allclose(zcr, 4000 / sample_rate, rtol=0.01)
    # The windowless spectrum leaks, but 90 % of the energy sits at 2 kHz of 11.025 kHz.
    rolloff = features[:, FEATURE_NAMES.index("spectral_rolloff")]
    assert np.all(np.abs(rolloff - 2000 / 11025) < 0.01)


@pytest.mark.parametrize("sample_rate", SAMPLE_RATES)
def test_label_excerpts_equal_one_excerpt_at_a_time(sample_rate: int) -> None:
    grid = FrameGrid.from_seconds(sample_rate)
    samples = clip(sample_rate)
    times = np.arange(15.0, 45.01, 0.5)
    batch = label_excerpt_features(samples, grid, times)
    assert batch.shape == (61, 60, 68)
    for index in (0, 1, 30, 60):
        start, end = excerpt_bounds(float(times[index]), sample_rate, grid)
        np.testing.assert_array_equal(batch[index], excerpt_features(samples[start:end], grid))
    with pytest.raises(ValueError, match="beyond the signal"):
        label_excerpt_features(samples, grid, [15.0, samples.size / sample_rate + 1])


@pytest.mark.parametrize("sample_rate", SAMPLE_RATES)
def test_streaming_extractor_equals_offline_in_random_chunks(sample_rate: int) -> None:
    grid = FrameGrid.from_seconds(sample_rate)
    samples = cc_clip(sample_rate)[: 12 * sample_rate]
    dc, peak = whole_signal_normalisation(samples)
    offline = extract_features(samples, sample_rate)
    np.testing.assert_array_equal(
        extract_features_with_normalisation(samples, grid, dc, peak), offline
    )
    rng = np.random.default_rng(1234)
    extractor = StreamingFeatureExtractor(grid, dc, peak)
    hop = round(0.5 * sample_rate)
    chunks = random_chunks(samples, rng, (1, 7, grid.step, grid.window + 1, 3 * hop))
    assert min(map(len, chunks)) == 1
    assert max(map(len, chunks)) > hop
    streamed = np.concatenate([extractor.push(chunk) for chunk in chunks])
    np.testing.assert_allclose(streamed, offline, rtol=STREAM_RTOL, atol=STREAM_ATOL)


def test_streaming_extractor_one_sample_at_a_time_with_fixed_normalisation() -> None:
    grid = FrameGrid.from_seconds(22050)
    samples = clip(22050)[22050 : 22050 + 6 * grid.step + 17]
    dc, peak = 0.001, 0.75  # any fixed normalisation, not the signal's own
    extractor = StreamingFeatureExtractor(grid, dc, peak)
    pieces = [extractor.push(samples[i : i + 1]) for i in range(samples.size)]
    assert sum(piece.shape[0] for piece in pieces) == 6
    offline = extract_features_with_normalisation(samples, grid, dc, peak)
    np.testing.assert_allclose(np.concatenate(pieces), offline, rtol=STREAM_RTOL, atol=STREAM_ATOL)
    extractor.reset()
    np.testing.assert_allclose(extractor.push(samples), offline, rtol=STREAM_RTOL, atol=STREAM_ATOL)


def test_streaming_extractor_takes_a_whole_song_in_one_push() -> None:
    grid = FrameGrid.from_seconds(22050)
    samples = clip(22050)
    extractor = StreamingFeatureExtractor(grid, *whole_signal_normalisation(samples))
    np.testing.assert_allclose(
        extractor.push(samples),
        extract_features(samples, 22050),
        rtol=STREAM_RTOL,
        atol=STREAM_ATOL,
    )
    assert extractor.push(np.zeros(0, dtype=np.int16)).shape == (0, 68)


def test_streaming_extractor_with_step_longer_than_window() -> None:
    grid = FrameGrid(22050, 1000, 1500)
    samples = clip(22050)[: 3 * 22050]
    extractor = StreamingFeatureExtractor(grid, 0.0, 1.0)
    rng = np.random.default_rng(5)
    streamed = np.concatenate(
        [extractor.push(chunk) for chunk in random_chunks(samples, rng, (1, 300, 4000))]
    )
    offline = extract_features_with_normalisation(samples, grid, 0.0, 1.0)
    np.testing.assert_allclose(streamed, offline, rtol=STREAM_RTOL, atol=STREAM_ATOL)


@pytest.mark.parametrize("sample_rate", SAMPLE_RATES)
def test_excerpt_stream_windows_equal_excerpt_features(sample_rate: int) -> None:
    grid = FrameGrid.from_seconds(sample_rate)
    samples = clip(sample_rate, "13.mp3")[: 8 * sample_rate]
    stream = ExcerptStream(grid)
    hop = stream.hop_samples
    assert hop == round(0.5 * sample_rate)
    rng = np.random.default_rng(99)
    chunks = random_chunks(samples, rng, (1, 13, grid.step, hop + 1, 3 * hop))
    assert min(map(len, chunks)) == 1
    assert max(map(len, chunks)) > hop
    windows = [window for chunk in chunks for window in stream.push(chunk)]
    excerpt = grid.excerpt_samples(60)
    expected_ends = [end for end in range(hop, samples.size + 1, hop) if end >= excerpt]
    assert [w.end_sample for w in windows] == expected_ends
    for window in windows:
        assert window.features.shape == (60, 68)
        chunk = samples[window.end_sample - excerpt : window.end_sample]
        np.testing.assert_array_equal(window.features, excerpt_features(chunk, grid))
        assert window.level_dbfs == level_dbfs(samples[window.end_sample - hop : window.end_sample])
    assert stream.position == samples.size


def test_excerpt_stream_hop_longer_than_excerpt_and_reset() -> None:
    grid = FrameGrid.from_seconds(22050)
    samples = clip(22050)[: 10 * 22050]
    hop = 3 * 22050 + 5000  # longer than the 66120-sample excerpt
    stream = ExcerptStream(grid, hop_samples=hop)
    rng = np.random.default_rng(3)
    windows = [
        w for chunk in random_chunks(samples, rng, (1, 999, 2 * hop)) for w in stream.push(chunk)
    ]
    assert [w.end_sample for w in windows] == [hop, 2 * hop, 3 * hop]
    for window in windows:
        end = window.end_sample
        np.testing.assert_array_equal(
            window.features, excerpt_features(samples[end - grid.excerpt_samples(60) : end], grid)
        )
        assert window.level_dbfs == level_dbfs(samples[end - hop : end])
    stream.reset()
    assert stream.position == 0
    assert stream.push(samples[: hop - 1]) == []
    again = stream.push(samples[hop - 1 : hop])
    assert [w.end_sample for w in again] == [hop]
    np.testing.assert_array_equal(again[0].features, windows[0].features)


def test_excerpt_stream_memory_stays_bounded() -> None:
    grid = FrameGrid.from_seconds(22050)
    stream = ExcerptStream(grid, sequence_length=10)
    rng = np.random.default_rng(11)
    before = stream.buffer_capacity
    noise = rng.integers(-8000, 8000, 20 * 22050).astype(np.int16)
    emitted = sum(len(stream.push(noise)) for _ in range(6))  # 2 minutes of audio
    assert emitted == (6 * noise.size) // stream.hop_samples
    assert stream.buffer_capacity == before == max(grid.excerpt_samples(10), stream.hop_samples)


def test_level_dbfs() -> None:
    assert level_dbfs(np.zeros(100, dtype=np.int16)) == -120.0
    assert level_dbfs(np.array([], dtype=np.int16)) == -120.0
    assert level_dbfs(np.array([1], dtype=np.int16)) == pytest.approx(20 * math.log10(1 / 32768))
    full = np.full(10, -32768, dtype=np.int16)
    assert level_dbfs(full) == pytest.approx(0.0)
    t = np.arange(22050) / 22050
    sine = np.round(16384 * np.sin(2 * np.pi * 441 * t)).astype(np.int16)
    assert level_dbfs(sine) == pytest.approx(20 * math.log10(0.5 / math.sqrt(2)), abs=1e-3)


def test_excerpt_stream_reports_silence() -> None:
    grid = FrameGrid.from_seconds(22050)
    stream = ExcerptStream(grid)
    windows = stream.push(np.zeros(4 * 22050, dtype=np.int16))
    assert len(windows) == 8 - 5
    assert all(w.level_dbfs == -120.0 for w in windows)
    assert all(np.all(np.isfinite(w.features)) for w in windows)


def test_excerpt_stream_rejects_non_pcm_input() -> None:
    stream = ExcerptStream(FrameGrid.from_seconds(22050))
    with pytest.raises(TypeError, match="int16"):
        stream.push(np.zeros(10, dtype=np.float32))
    with pytest.raises(ValueError, match="int16 range"):
        stream.push(np.array([40000], dtype=np.int32))
    with pytest.raises(ValueError, match="1-D"):
        stream.push(np.zeros((2, 2), dtype=np.int16))
    assert stream.push(np.array([1, -2], dtype=">i2")) == []
    assert stream.position == 2
