"""The one audio -> readings path: honours the model's metadata and format, and the whole-file
timeline equals the live analyser's hop-by-hop readings on the same PCM."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest
from music_mood_core.features import (
    EXTRACTOR_VERSION,
    FrameGrid,
    excerpt_features,
    frame_levels_dbfs,
    level_dbfs,
)
from music_mood_core.model import MoodModel, load_model
from music_mood_core.timeline import Timeline, timeline, timeline_step
from numpy.typing import NDArray

from tests import onnx_wire as wire

# Not the study's grid: 16 kHz, 40 ms frames, 40-frame excerpts (1.6 s), a hop of 0.25 s.
SAMPLE_RATE = wire.ODD_GRID_SAMPLE_RATE
WINDOW_S = wire.ODD_GRID_WINDOW_S
SEQUENCE_LENGTH = wire.ODD_GRID_SEQUENCE_LENGTH
HOP_S = wire.ODD_GRID_HOP_S
HOP = 4000
EXCERPT = SEQUENCE_LENGTH * 640
LOUDNESS_GAIN = wire.LINEAR_LOUDNESS_GAIN
PARITY_TOLERANCE = 1e-5


def _write_model(tmp_path: Path, model_format: str) -> Path:
    return wire.write_odd_grid_model(tmp_path, EXTRACTOR_VERSION, model_format)


@pytest.fixture(params=["1", "2"], ids=["format1", "format2_loudness"])
def model(request: pytest.FixtureRequest, tmp_path: Path) -> MoodModel:
    # "auto": onnxruntime where it imports (batched inference may round differently), else numpy.
    return load_model(_write_model(tmp_path, str(request.param)))


def _music_like(seconds: float, seed: int = 0, gain: float = 1.0) -> NDArray[np.int16]:
    """Chords whose pitch and loudness change every half second, over a little noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    segment = np.floor(t / 0.5).astype(np.int64)
    roots = 110.0 * 2.0 ** (rng.integers(0, 24, segment.max() + 1) / 12.0)
    levels = rng.uniform(0.05, 0.6, segment.max() + 1)
    root = roots[segment]
    tone = sum(
        np.sin(2 * np.pi * root * ratio * t) / (k + 1) for k, ratio in enumerate((1, 1.25, 1.5, 2))
    )
    signal = levels[segment] * tone / 2.0 + 0.01 * rng.standard_normal(t.size)
    return np.clip(np.round(gain * signal * 32767), -32768, 32767).astype(np.int16)


def _live_readings(pcm: NDArray[np.int16], model: MoodModel) -> Timeline:
    """What the live analyser does: read up to each hop boundary, one prediction per hop."""
    stream = model.info.excerpt_stream()
    parts = []
    position = 0
    while position < pcm.size:
        to_boundary = stream.hop_samples - stream.position % stream.hop_samples
        parts.append(timeline_step(stream, model, pcm[position : position + to_boundary]))
        position += to_boundary
    return Timeline.joined(SAMPLE_RATE, parts)


def test_the_models_metadata_sets_grid_excerpt_and_hop(model: MoodModel) -> None:
    stream = model.info.excerpt_stream()
    assert (stream.grid.window, stream.grid.step, stream.hop_samples) == (640, 640, HOP)
    assert stream.excerpt_samples == EXCERPT
    pcm = _music_like(5.3)
    readings = timeline(pcm, model)
    first_end = math.ceil(EXCERPT / HOP) * HOP  # the first hop boundary holding a full excerpt
    expected_ends = np.arange(first_end, pcm.size + 1, HOP)
    np.testing.assert_array_equal(readings.end_samples, expected_ends)
    np.testing.assert_allclose(readings.times_s, expected_ends / SAMPLE_RATE)
    assert readings.times_s[0] == 1.75


def test_each_reading_is_the_model_on_its_own_excerpt(model: MoodModel) -> None:
    pcm = _music_like(4.0, seed=1)
    readings = timeline(pcm, model)
    grid = FrameGrid.from_seconds(SAMPLE_RATE, WINDOW_S, WINDOW_S)
    for k, end in enumerate(readings.end_samples):
        excerpt = pcm[end - EXCERPT : end]
        expected = model.predict(
            excerpt_features(excerpt, grid, SEQUENCE_LENGTH),
            frame_levels_dbfs(excerpt, grid, SEQUENCE_LENGTH),
        )[0]
        assert readings.valence[k] == pytest.approx(float(expected[0]), abs=PARITY_TOLERANCE)
        assert readings.arousal[k] == pytest.approx(float(expected[1]), abs=PARITY_TOLERANCE)
        assert readings.level_dbfs[k] == pytest.approx(level_dbfs(pcm[end - HOP : end]))


def test_whole_file_timeline_equals_the_live_hop_by_hop_readings(model: MoodModel) -> None:
    pcm = _music_like(12.0, seed=2)
    offline = timeline(pcm, model)
    live = _live_readings(pcm, model)
    assert len(offline) == len(live) == (pcm.size // HOP) - math.ceil(EXCERPT / HOP) + 1
    np.testing.assert_array_equal(offline.end_samples, live.end_samples)
    np.testing.assert_allclose(offline.valence, live.valence, rtol=0, atol=PARITY_TOLERANCE)
    np.testing.assert_allclose(offline.arousal, live.arousal, rtol=0, atol=PARITY_TOLERANCE)
    np.testing.assert_array_equal(offline.level_dbfs, live.level_dbfs)
    # The readings move with the music: a constant output would make the comparison empty.
    assert float(np.ptp(offline.valence)) > 0.01
    assert float(np.ptp(offline.arousal)) > 0.01


def test_how_the_audio_is_chunked_does_not_change_the_timeline(model: MoodModel) -> None:
    pcm = _music_like(9.0, seed=3)
    reference = timeline(pcm, model, chunk_hops=1)
    for chunk_hops in (3, 32, 1000):
        chunked = timeline(pcm, model, chunk_hops=chunk_hops)
        np.testing.assert_array_equal(chunked.end_samples, reference.end_samples)
        np.testing.assert_allclose(chunked.valence, reference.valence, atol=PARITY_TOLERANCE)
    odd = model.info.excerpt_stream()
    pieces = [
        timeline_step(odd, model, pcm[start : start + 777]) for start in range(0, pcm.size, 777)
    ]
    joined = Timeline.joined(SAMPLE_RATE, pieces)
    np.testing.assert_array_equal(joined.end_samples, reference.end_samples)
    np.testing.assert_allclose(joined.arousal, reference.arousal, atol=PARITY_TOLERANCE)


def test_a_format_2_model_hears_the_level_a_format_1_model_does_not(tmp_path: Path) -> None:
    loud, quiet = _music_like(4.0, seed=4), _music_like(4.0, seed=4, gain=0.1)
    shifts = {}
    for model_format in ("1", "2"):
        model = load_model(_write_model(tmp_path, model_format), engine="numpy")
        pre_tanh = [
            np.arctanh(timeline(pcm, model).valence.astype(np.float64)) for pcm in (loud, quiet)
        ]
        shifts[model_format] = float(np.median(pre_tanh[0] - pre_tanh[1]))
    # Per-excerpt normalisation removes a -20 dB gain from the features: format 1 barely moves...
    assert abs(shifts["1"]) < 0.01
    # ...format 2 sees the 20 dB through its loudness input (gain 0.02 per dB).
    assert shifts["2"] == pytest.approx(20.0 * LOUDNESS_GAIN, abs=0.02)


def test_audio_shorter_than_one_excerpt_gives_an_empty_timeline(model: MoodModel) -> None:
    readings = timeline(_music_like(1.5), model)
    assert len(readings) == 0
    assert readings.sample_rate == SAMPLE_RATE
    assert readings.valence.dtype == np.float32


def test_bad_calls_are_refused(model: MoodModel) -> None:
    with pytest.raises(ValueError, match="1-D"):
        timeline(np.zeros((2, SAMPLE_RATE), np.int16), model)
    with pytest.raises(ValueError, match="chunk_hops"):
        timeline(np.zeros(SAMPLE_RATE, np.int16), model, chunk_hops=0)
    with pytest.raises(TypeError, match="int16"):
        timeline(np.zeros(SAMPLE_RATE * 3, np.float32), model)
    part = timeline(_music_like(3.0), model)
    resampled = Timeline(8000, part.end_samples, part.valence, part.arousal, part.level_dbfs)
    with pytest.raises(ValueError, match="16000 Hz"):
        Timeline.joined(SAMPLE_RATE, [part, resampled])


def test_a_normalisation_other_than_excerpt_is_refused_not_ignored(model: MoodModel) -> None:
    song_normalised = dataclasses.replace(model.info, normalisation="song")
    with pytest.raises(ValueError, match="'song'"):
        song_normalised.excerpt_stream()
