"""The live stream loop (real ffmpeg, hop-by-hop reads) publishes the offline timeline's numbers."""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path

import numpy as np
import pytest
from music_mood_core.audio import decode_file, ffmpeg_pcm_command
from music_mood_core.features import EXTRACTOR_VERSION
from music_mood_core.model import MoodModel, load_model
from music_mood_core.pcm_source import FfmpegPcmSource, PcmFormat, PcmSource
from music_mood_core.stream_loop import MoodReading, StreamLoop, StreamSettings
from music_mood_core.timeline import timeline

from tests import onnx_wire as wire

# Not the study's grid: 16 kHz, 40 ms frames, 40-frame excerpts, a 0.25 s hop.
SAMPLE_RATE = wire.ODD_GRID_SAMPLE_RATE
SEQUENCE_LENGTH = wire.ODD_GRID_SEQUENCE_LENGTH
WINDOW_S = wire.ODD_GRID_WINDOW_S
HOP_S = wire.ODD_GRID_HOP_S
PARITY_TOLERANCE = 1e-5
# A guard against a hung loop only; nothing is asserted about how long the readings take.
GUARD_S = 120.0


def _write_model(folder: Path, model_format: str) -> Path:
    return wire.write_odd_grid_model(folder, EXTRACTOR_VERSION, model_format)


def _write_wav(path: Path, seconds: float) -> Path:
    """Stereo 44.1 kHz chords, new pitch and level every 0.4 s: ffmpeg downmixes and resamples."""
    rate = 44100
    rng = np.random.default_rng(7)
    t = np.arange(round(seconds * rate)) / rate
    segment = np.floor(t / 0.4).astype(np.int64)
    roots = 98.0 * 2.0 ** (rng.integers(0, 24, segment.max() + 1) / 12.0)
    levels = rng.uniform(0.05, 0.5, segment.max() + 1)
    left = levels[segment] * np.sin(2 * np.pi * roots[segment] * t)
    right = levels[segment] * np.sin(2 * np.pi * roots[segment] * 1.5 * t)
    noise = 0.01 * rng.standard_normal((t.size, 2))
    frames = np.round((np.column_stack((left, right)) + noise) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(frames.tobytes())
    return path


class _Model:
    """Hands the stream loop one loaded model; any failure report fails the test."""

    def __init__(self, model: MoodModel) -> None:
        self.model = model
        self.failures: list[str] = []

    async def async_model(self) -> MoodModel:
        return self.model

    def report_failure(self, message: str) -> None:
        self.failures.append(message)

    def confirm_working(self) -> None:
        return None


async def _live_readings(wav: Path, model: MoodModel, expected: int) -> list[MoodReading]:
    readings: list[MoodReading] = []
    complete = asyncio.Event()

    def on_reading(reading: MoodReading) -> None:
        readings.append(reading)
        if len(readings) == expected:
            complete.set()

    def command(pcm_format: PcmFormat) -> list[str]:
        return ffmpeg_pcm_command(f"file:{wav}", pcm_format.sample_rate)

    async def resolve_source() -> PcmSource:
        # real_time: no pacing, so the file is read as fast as the loop takes it (values unchanged).
        return FfmpegPcmSource(command=command, real_time=True)

    provider = _Model(model)
    loop = StreamLoop(
        name="parity",
        source_name=wav.name,
        settings=StreamSettings(
            smoothing_s=2.0,
            silence_threshold_db=-60.0,
            silence_duration_s=5.0,
            stall_timeout_s=30.0,
            probe_timeout_s=30.0,
            # After the file ends the loop waits here instead of reading the file again.
            backoff_min_s=3600.0,
            backoff_max_s=3600.0,
        ),
        models=provider,
        resolve_source=resolve_source,
        run_blocking=asyncio.to_thread,
        on_reading=on_reading,
        on_status=lambda: None,
    )
    loop.start(asyncio.get_running_loop().create_task)
    try:
        async with asyncio.timeout(GUARD_S):
            await complete.wait()
    finally:
        await loop.async_stop()
    assert provider.failures == []
    return readings


@pytest.mark.parametrize("model_format", ["1", "2"])
def test_live_loop_readings_equal_the_offline_timeline(tmp_path: Path, model_format: str) -> None:
    model = load_model(_write_model(tmp_path, model_format))
    wav = _write_wav(tmp_path / "chords.wav", 6.0)
    offline = timeline(decode_file(wav, SAMPLE_RATE), model)
    assert len(offline) == 6.0 / HOP_S - 7 + 1  # 1.6 s excerpts: the first ends at the 7th hop

    live = asyncio.run(_live_readings(wav, model, len(offline)))

    np.testing.assert_array_equal([r.end_sample for r in live], offline.end_samples)
    np.testing.assert_allclose(
        [r.raw_valence for r in live], offline.valence, rtol=0, atol=PARITY_TOLERANCE
    )
    np.testing.assert_allclose(
        [r.raw_arousal for r in live], offline.arousal, rtol=0, atol=PARITY_TOLERANCE
    )
    np.testing.assert_allclose([r.level_dbfs for r in live], offline.level_dbfs, atol=1e-9)
    assert float(np.ptp(offline.valence)) > 0.01  # the music moves the readings
