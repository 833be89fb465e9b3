"""The stream loop without Home Assistant: any `PcmSource` in, mood readings and statuses out.

The source here is an in-memory implementation of the PCM-source protocols (as a raw-PCM source
is): generated audio, a real ONNX model, the real features and mood tracker. What the loop reads
equals the whole-file timeline of the same samples; an ended stream, an unavailable source, a
restart request and a failing model each give the status the analyser's sensor shows.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

import numpy as np
import pytest
from music_mood_core.model import ModelError, MoodModel, load_model
from music_mood_core.pcm_source import PcmFormat, SourceUnavailableError
from music_mood_core.stream_loop import (
    MoodReading,
    StreamLoop,
    StreamSettings,
    StreamStatus,
)
from music_mood_core.timeline import timeline
from numpy.typing import NDArray

from tests import polling
from tests.raw_pcm_players import chords

MODEL_FILE = Path(__file__).parents[1] / "fixtures" / "models" / "ensemble.onnx"
WAIT_S = 30.0


class MemoryPcmStream:
    """Hands out the samples it was given, then ends (EOFError), as a finished stream does."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._interrupted = asyncio.Event()
        self.closed = False

    @property
    def pid(self) -> int | None:
        return None

    @property
    def peak_buffered_bytes(self) -> int:
        return 0

    async def start(self) -> None:
        return None

    async def read_exactly(self, n_bytes: int, timeout_s: float) -> bytes:
        if self._interrupted.is_set() or not self._data:
            raise EOFError("the samples ran out")
        data, self._data = self._data[:n_bytes], self._data[n_bytes:]
        if len(data) < n_bytes:
            raise EOFError("the samples ran out")
        await asyncio.sleep(0)
        return data

    def interrupt(self) -> None:
        self._interrupted.set()

    async def close(self) -> None:
        self.closed = True


class MemoryPcmSource:
    """Every stream opened plays ``samples`` once; ``formats`` records what the loop asked for."""

    real_time = True
    knows_play_time = False

    def __init__(self, samples: NDArray[np.int16]) -> None:
        self._data = samples.astype("<i2").tobytes()
        self.formats: list[PcmFormat] = []

    def open(self, pcm_format: PcmFormat) -> MemoryPcmStream:
        self.formats.append(pcm_format)
        return MemoryPcmStream(self._data)


class LoadedModel:
    """A model provider holding one loaded model; records what the loop reported."""

    def __init__(self, model: MoodModel | None, error: ModelError | None = None) -> None:
        self.model = model
        self.error = error
        self.failures: list[str] = []
        self.confirmations = 0

    async def async_model(self) -> MoodModel:
        if self.model is None:
            assert self.error is not None
            raise self.error
        return self.model

    def report_failure(self, message: str) -> None:
        self.failures.append(message)

    def confirm_working(self) -> None:
        self.confirmations += 1


def _music(seconds: float, sample_rate: int) -> NDArray[np.int16]:
    return chords(seconds, sample_rate, seed=3)[:, 0]


def _loop(
    models: LoadedModel,
    resolve: Callable[[], Awaitable[MemoryPcmSource]],
    readings: list[MoodReading],
    statuses: list[StreamStatus],
    *,
    backoff_s: float = 0.01,
) -> StreamLoop:
    loop: StreamLoop

    def on_status() -> None:
        statuses.append(loop.status)

    loop = StreamLoop(
        name="Test",
        source_name="memory",
        settings=StreamSettings(
            smoothing_s=1.0,
            silence_threshold_db=-50.0,
            silence_duration_s=2.0,
            stall_timeout_s=5.0,
            probe_timeout_s=5.0,
            backoff_min_s=backoff_s,
            backoff_max_s=backoff_s,
        ),
        models=models,
        resolve_source=resolve,
        run_blocking=asyncio.to_thread,
        on_reading=readings.append,
        on_status=on_status,
    )
    return loop


async def _until(condition: Callable[[], bool], what: str) -> None:
    await polling.until(condition, what, guard_s=WAIT_S)


@pytest.fixture(scope="module")
def model() -> MoodModel:
    return load_model(MODEL_FILE)


async def test_readings_equal_the_whole_file_timeline_and_an_ended_stream_is_an_outage(
    model: MoodModel, caplog: pytest.LogCaptureFixture
) -> None:
    samples = _music(6.0, int(model.info.sample_rate))
    source = MemoryPcmSource(samples)
    readings: list[MoodReading] = []
    statuses: list[StreamStatus] = []

    async def resolve() -> MemoryPcmSource:
        return source

    loop = _loop(LoadedModel(model), resolve, readings, statuses)
    expected = timeline(samples, model)
    loop.start(asyncio.ensure_future)
    await _until(lambda: loop.stats.restarts >= 2, "the stream to end twice")
    await loop.async_stop()

    first = readings[: len(expected)]
    assert [reading.end_sample for reading in first] == expected.end_samples.tolist()
    np.testing.assert_allclose([r.raw_valence for r in first], expected.valence, atol=1e-5)
    np.testing.assert_allclose([r.raw_arousal for r in first], expected.arousal, atol=1e-5)
    assert source.formats[0].sample_rate == model.info.sample_rate
    assert source.formats[0].hop_samples == model.info.excerpt_stream().hop_samples
    # A reading makes the loop running; each end of the stream is an outage, reported and logged.
    assert statuses.count(StreamStatus.RECONNECTING) >= 2
    assert statuses[-1] is StreamStatus.STOPPED
    assert loop.stats.last_error == "stream ended (the samples ran out)"
    warnings = [r for r in caplog.records if "is unavailable" in r.getMessage()]
    assert len(warnings) == statuses.count(StreamStatus.RECONNECTING)


@pytest.mark.parametrize(
    ("kind", "restarts"),
    [
        (StreamStatus.WAITING_FOR_MEDIA, 0),
        (StreamStatus.UNSUPPORTED_MEDIA, 0),
        (StreamStatus.SOURCE_ERROR, 2),
    ],
)
async def test_a_source_that_cannot_play_is_its_status_and_only_an_outage_counts_restarts(
    model: MoodModel, kind: StreamStatus, restarts: int
) -> None:
    attempts: list[int] = []

    async def resolve() -> MemoryPcmSource:
        attempts.append(1)
        raise SourceUnavailableError(kind, f"{kind}: nothing to hear")

    statuses: list[StreamStatus] = []
    loop = _loop(LoadedModel(model), resolve, [], statuses)
    loop.start(asyncio.ensure_future)
    await _until(lambda: len(attempts) >= 2, "a retry")
    assert loop.status is kind
    assert loop.status_detail == f"{kind}: nothing to hear"
    assert min(loop.stats.restarts, 2) == restarts
    assert loop.running
    await loop.async_stop()


async def test_a_restart_request_cuts_the_back_off_short(model: MoodModel) -> None:
    attempts: list[int] = []

    async def resolve() -> MemoryPcmSource:
        attempts.append(1)
        raise SourceUnavailableError(StreamStatus.SOURCE_ERROR, "source_error: down")

    # A back-off far longer than the test may wait: only the request can start attempt two.
    loop = _loop(LoadedModel(model), resolve, [], [], backoff_s=3600.0)
    loop.start(asyncio.ensure_future)
    await _until(lambda: len(attempts) == 1 and loop.status is StreamStatus.SOURCE_ERROR, "1")
    loop.request_restart()
    await _until(lambda: len(attempts) == 2, "the requested attempt")
    await loop.async_stop()


async def test_an_unusable_model_and_a_model_failing_to_predict_are_model_errors(
    model: MoodModel, tmp_path: Path
) -> None:
    samples = _music(6.0, int(model.info.sample_rate))

    async def resolve() -> MemoryPcmSource:
        return MemoryPcmSource(samples)

    unusable = LoadedModel(None, ModelError("not_onnx", "not an ONNX file"))
    loop = _loop(unusable, resolve, [], [])
    loop.start(asyncio.ensure_future)
    await _until(lambda: loop.status is StreamStatus.MODEL_ERROR, "the model error")
    assert loop.status_detail == "not_onnx: not an ONNX file"
    await loop.async_stop()

    # Closed under the loop's feet: predicting raises, as an engine failure would.
    failing = load_model(MODEL_FILE)
    failing.close()
    provider = LoadedModel(failing)
    readings: list[MoodReading] = []
    loop = _loop(provider, resolve, readings, [])
    loop.start(asyncio.ensure_future)
    await _until(lambda: bool(provider.failures), "the failure to be reported")
    assert loop.status is StreamStatus.MODEL_ERROR
    assert (loop.status_detail or "").startswith("inference_failed: ")
    assert readings == []
    assert loop.running
    await loop.async_stop()
    assert not loop.running


async def test_stopping_is_final_and_can_be_repeated(
    model: MoodModel, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    samples = _music(20.0, int(model.info.sample_rate))
    source = MemoryPcmSource(samples)

    async def resolve() -> MemoryPcmSource:
        return source

    readings: list[MoodReading] = []
    loop = _loop(LoadedModel(model), resolve, readings, [])
    loop.start(asyncio.ensure_future)
    await _until(lambda: bool(readings), "a reading")
    await loop.async_stop()
    await loop.async_stop()
    assert loop.status is StreamStatus.STOPPED
    assert not loop.running
    # Stopped mid-stream is not an outage: nothing to warn about.
    assert not [r for r in caplog.records if r.name.endswith("stream_loop")]


async def test_an_outage_is_logged_once_and_its_end_once_whatever_comes_between(
    model: MoodModel, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    source = MemoryPcmSource(_music(20.0, int(model.info.sample_rate)))
    resolves: list[int] = []

    async def resolve() -> MemoryPcmSource:
        resolves.append(1)
        if len(resolves) == 1:
            raise SourceUnavailableError(StreamStatus.SOURCE_ERROR, "source_error: down")
        return source

    class ModelOnceBroken(LoadedModel):
        """Usable, then unusable for one attempt (a file being replaced), then usable again."""

        calls = 0

        async def async_model(self) -> MoodModel:
            self.calls += 1
            if self.calls == 2:
                raise ModelError("not_onnx", "half-written file")
            return await super().async_model()

    statuses: list[StreamStatus] = []
    readings: list[MoodReading] = []
    loop = _loop(ModelOnceBroken(model), resolve, readings, statuses)
    loop.start(asyncio.ensure_future)
    await _until(lambda: bool(readings), "audio after the outage")
    await loop.async_stop()
    assert statuses[:3] == [
        StreamStatus.RECONNECTING,
        StreamStatus.SOURCE_ERROR,
        StreamStatus.MODEL_ERROR,
    ]
    down = [r for r in caplog.records if "is unavailable" in r.getMessage()]
    back = [r for r in caplog.records if "is back" in r.getMessage()]
    assert (len(down), len(back)) == (1, 1)
    assert "source_error: down" in down[0].getMessage()
