"""The stream loop on a raw-PCM source (real FIFO, real ffmpeg, real model), without Home Assistant.

No writer is "waiting for media", not an outage; the first bytes restart the loop at once (not
after its back-off); the readings equal the offline timeline of the same bytes; the writer closing
the FIFO ends the stream and the FIFO is reopened for the next writer; a negative delay reads a
paced (regular-file) source ahead and is reported as unreachable on a live one.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from music_mood_core.audio import ffmpeg_pcm_command
from music_mood_core.model import MoodModel, load_model
from music_mood_core.raw_pcm_fifo import FifoPcmReader
from music_mood_core.raw_pcm_format import RawPcmFormat, parse_format
from music_mood_core.raw_pcm_stream import RawPcmSource
from music_mood_core.stream_loop import MoodReading, StreamLoop, StreamSettings, StreamStatus
from music_mood_core.timeline import timeline

from tests import polling
from tests.raw_pcm_players import chords_s16le, write_into

MODEL_FILE = Path(__file__).parents[1] / "fixtures" / "models" / "ensemble.onnx"
WAIT_S = 60.0
STEREO_48K = parse_format("48000:s16le:2")
# Long enough that only the first audio (the restart it triggers), never the back-off, can end
# a wait for a writer within the test's patience.
LONG_BACKOFF_S = 600.0


def offline_samples(data: bytes, pcm_format: RawPcmFormat, sample_rate: int, tmp: Path) -> bytes:
    raw = tmp / "offline.raw"
    raw.write_bytes(data)
    command = ffmpeg_pcm_command(
        f"file:{raw}", sample_rate, input_options=pcm_format.ffmpeg_input_options()
    )
    return subprocess.run(command, capture_output=True, check=True, timeout=60).stdout


class LoadedModel:
    def __init__(self, model: MoodModel) -> None:
        self.model = model

    async def async_model(self) -> MoodModel:
        return self.model

    def report_failure(self, message: str) -> None:
        raise AssertionError(f"the model failed: {message}")

    def confirm_working(self) -> None:
        return None


def make_loop(
    model: MoodModel,
    source: RawPcmSource,
    readings: list[MoodReading],
    statuses: list[tuple[StreamStatus, str | None]],
    *,
    delay_s: float = 0.0,
    backoff_s: float = LONG_BACKOFF_S,
) -> StreamLoop:
    loop: StreamLoop

    async def resolve() -> RawPcmSource:
        await source.async_open()
        return source

    def on_status() -> None:
        statuses.append((loop.status, loop.status_detail))

    loop = StreamLoop(
        name="Test",
        source_name=source.byte_source.description,
        settings=StreamSettings(
            smoothing_s=1.0,
            silence_threshold_db=-50.0,
            silence_duration_s=2.0,
            stall_timeout_s=2.0,
            probe_timeout_s=0.5,
            backoff_min_s=backoff_s,
            backoff_max_s=backoff_s,
            delay_s=delay_s,
        ),
        models=LoadedModel(model),
        resolve_source=resolve,
        run_blocking=asyncio.to_thread,
        on_reading=readings.append,
        on_status=on_status,
    )
    source.on_audio = loop.request_restart
    return loop


async def until(condition: Callable[[], bool], what: str) -> None:
    await polling.until(condition, what, guard_s=WAIT_S)


@pytest.fixture(scope="module")
def model() -> MoodModel:
    return load_model(MODEL_FILE)


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "player.fifo"
    os.mkfifo(path)
    return path


async def test_no_writer_is_waiting_then_the_first_audio_restarts_and_reads_exactly(
    model: MoodModel, fifo: Path, tmp_path: Path
) -> None:
    source = RawPcmSource(FifoPcmReader(str(fifo), STEREO_48K.frame_bytes), STEREO_48K)
    readings: list[MoodReading] = []
    statuses: list[tuple[StreamStatus, str | None]] = []
    loop = make_loop(model, source, readings, statuses)
    loop.start(asyncio.ensure_future)
    try:
        await until(lambda: loop.status is StreamStatus.WAITING_FOR_MEDIA, "waiting for media")
        assert loop.stats.restarts == 0, "no writer is not an outage"
        detail = loop.status_detail or ""
        assert detail.startswith(f"waiting for audio: nothing has arrived from {fifo}")
        data = chords_s16le(6.0)
        writer = write_into(fifo, data)
        # Only the arrival can start the next attempt now: the back-off is ten minutes.
        await until(lambda: loop.stats.restarts >= 1, "the writer's end to end the stream")
        writer.join()
    finally:
        await loop.async_stop()
        source.close()

    sample_rate = int(model.info.sample_rate)
    expected = timeline(
        np.frombuffer(offline_samples(data, STEREO_48K, sample_rate, tmp_path), "<i2"), model
    )
    # The live decoder's last partial hop is not read; every hop it did read is exact.
    assert 0 < len(readings) <= len(expected)
    assert len(readings) >= len(expected) - 1
    got = readings
    assert [r.end_sample for r in got] == expected.end_samples[: len(got)].tolist()
    np.testing.assert_allclose(
        [r.raw_valence for r in got], expected.valence[: len(got)], atol=1e-5
    )
    np.testing.assert_allclose(
        [r.raw_arousal for r in got], expected.arousal[: len(got)], atol=1e-5
    )
    assert loop.stats.last_error == f"stream ended ({fifo} ended (its writer closed it))"
    # Waiting, then (readings: running) the writer's end, an outage retried with back-off.
    kinds = [status for status, _detail in statuses]
    assert kinds[:2] == [StreamStatus.WAITING_FOR_MEDIA, StreamStatus.RECONNECTING]


async def test_a_reopened_fifo_hears_the_next_writer(model: MoodModel, fifo: Path) -> None:
    source = RawPcmSource(FifoPcmReader(str(fifo), STEREO_48K.frame_bytes), STEREO_48K)
    readings: list[MoodReading] = []
    loop = make_loop(model, source, readings, [], backoff_s=0.05)
    loop.start(asyncio.ensure_future)
    heard: list[int] = []
    try:
        for writers in (1, 2):
            writer = write_into(fifo, chords_s16le(4.0))
            await until(lambda n=writers: loop.stats.restarts >= n, f"writer {writers} to finish")
            writer.join()
            heard.append(len(readings))
    finally:
        await loop.async_stop()
        source.close()
    assert 0 < heard[0] < heard[1], "the second writer was not heard"


@pytest.mark.parametrize(
    ("live", "read_ahead", "unreachable"), [(False, 1.5, 0.0), (True, 0.0, 1.5)]
)
async def test_a_negative_delay_reads_a_file_ahead_and_is_unreachable_on_a_fifo(
    model: MoodModel, tmp_path: Path, live: bool, read_ahead: float, unreachable: float
) -> None:
    path = tmp_path / ("player.fifo" if live else "recording.raw")
    if live:
        os.mkfifo(path)
    else:
        path.write_bytes(chords_s16le(5.0))
    source = RawPcmSource(FifoPcmReader(str(path), STEREO_48K.frame_bytes), STEREO_48K)
    loop = make_loop(model, source, [], [], delay_s=-1.5)
    loop.start(asyncio.ensure_future)
    try:
        await until(lambda: loop.stats.ffmpeg_starts >= 1, "the first stream")
        plan = loop.delay_plan
    finally:
        await loop.async_stop()
        source.close()
    assert source.real_time is live
    assert (plan.hold_s, plan.read_ahead_s, plan.unreachable_s) == (0.0, read_ahead, unreachable)
