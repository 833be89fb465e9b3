"""`music-mood-train predict` reads a file on the model's own grid, through the core's timeline."""

from __future__ import annotations

import json
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest
from music_mood_core.audio import decode_file
from music_mood_core.features import EXTRACTOR_VERSION
from music_mood_core.model import load_model
from music_mood_core.timeline import timeline

from tests import onnx_wire as wire
from tests.data_paths import REPO_ROOT

# Not the study's grid, so a predict that assumed 22050 Hz / 60 frames / 0.5 s would be caught.
SAMPLE_RATE = wire.ODD_GRID_SAMPLE_RATE
SEQUENCE_LENGTH = wire.ODD_GRID_SEQUENCE_LENGTH
WINDOW_S = wire.ODD_GRID_WINDOW_S
HOP_S = wire.ODD_GRID_HOP_S


def _odd_grid_model(folder: Path, model_format: str = "2") -> Path:
    return wire.write_odd_grid_model(folder, EXTRACTOR_VERSION, model_format)


def _write_wav(path: Path, seconds: float) -> Path:
    """Mono 22.05 kHz tones changing pitch and level every 0.3 s (predict resamples to 16 kHz)."""
    rate = 22050
    rng = np.random.default_rng(11)
    t = np.arange(round(seconds * rate)) / rate
    segment = np.floor(t / 0.3).astype(np.int64)
    pitch = 110.0 * 2.0 ** (rng.integers(0, 30, segment.max() + 1) / 12.0)
    level = rng.uniform(0.05, 0.6, segment.max() + 1)
    signal = level[segment] * np.sin(2 * np.pi * pitch[segment] * t)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(np.round(signal * 32767).astype("<i2").tobytes())
    return path


def _predict(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "training", "predict", *arguments],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize("model_format", ["1", "2"])
def test_predict_honours_the_models_grid_and_format(tmp_path: Path, model_format: str) -> None:
    model_path = _odd_grid_model(tmp_path, model_format)
    audio = _write_wav(tmp_path / "tones.wav", 5.0)
    output = tmp_path / "timeline.json"
    completed = _predict(str(audio), "--model", str(model_path), "--output", str(output))
    assert completed.returncode == 0, completed.stderr
    rows = json.loads(output.read_text())

    # The 1.6 s excerpt first fits at the 7th 0.25 s hop; then one row per hop to the end.
    assert [row["time_s"] for row in rows] == [1.75 + HOP_S * k for k in range(14)]
    model = load_model(model_path)
    expected = timeline(decode_file(audio, SAMPLE_RATE), model)
    np.testing.assert_allclose([row["valence"] for row in rows], expected.valence, atol=1e-6)
    np.testing.assert_allclose([row["arousal"] for row in rows], expected.arousal, atol=1e-6)
    assert np.ptp([row["valence"] for row in rows]) > 0.01


def test_predict_writes_csv_with_the_same_numbers(tmp_path: Path) -> None:
    model_path = _odd_grid_model(tmp_path)
    audio = _write_wav(tmp_path / "tones.wav", 3.0)
    completed = _predict(str(audio), "--model", str(model_path))
    assert completed.returncode == 0, completed.stderr
    header, *lines = completed.stdout.splitlines()
    assert header == "time_s,valence,arousal"
    expected = timeline(decode_file(audio, SAMPLE_RATE), load_model(model_path))
    assert [float(line.split(",")[0]) for line in lines] == pytest.approx(list(expected.times_s))
    assert [float(line.split(",")[1]) for line in lines] == pytest.approx(
        expected.valence.tolist(), abs=1e-6
    )


def test_audio_shorter_than_the_models_excerpt_is_a_clear_error(tmp_path: Path) -> None:
    model_path = _odd_grid_model(tmp_path)
    audio = _write_wav(tmp_path / "short.wav", 1.2)
    completed = _predict(str(audio), "--model", str(model_path))
    assert completed.returncode == 2
    assert "shorter than one 1.6 s excerpt" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_a_model_that_is_not_a_music_mood_model_is_refused_cleanly(tmp_path: Path) -> None:
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"\x08\x07not really onnx")
    audio = _write_wav(tmp_path / "tones.wav", 3.0)
    completed = _predict(str(audio), "--model", str(broken))
    assert completed.returncode == 2
    assert "broken.onnx" in completed.stderr
    assert "Traceback" not in completed.stderr
