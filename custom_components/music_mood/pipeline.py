"""The analyser's heart: source -> ffmpeg -> excerpts -> model (off the loop) -> mood -> listeners.

One background task owns everything that runs: it loads the model, resolves the source, runs one
ffmpeg child process and restarts it with capped exponential back-off when the stream ends, fails
or stalls. Model problems become a repair issue and are retried, never a crash loop. A cheap
periodic look at the model file's stat notices a model removed, broken or replaced while running.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

import numpy as np
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_track_time_interval

from .audio_source import REASON_INVALID_SOURCE, AudioSource, FfmpegInput, SourceError
from .const import (
    DOMAIN,
    ISSUE_MODEL_UNUSABLE,
    RESTART_BACKOFF_MAX_S,
    RESTART_BACKOFF_MIN_S,
    SOURCE_PROBE_TIMEOUT_S,
    STALL_TIMEOUT_S,
)
from .music_mood_core.audio import BYTES_PER_SAMPLE, redact_url
from .music_mood_core.features import ExcerptStream
from .music_mood_core.ffmpeg_process import (
    FfmpegEndedError,
    FfmpegPcmProcess,
    FfmpegStalledError,
    FfmpegStartError,
)
from .music_mood_core.model import ModelError, MoodModel, load_model, resolve_model
from .music_mood_core.mood import DEFAULT_DEAD_BAND, DEFAULT_DWELL_S, MoodState, MoodTracker
from .music_mood_core.pacing import NativeRatePacer

_LOGGER = logging.getLogger(__name__)

DEFAULT_HOP_S: Final = 0.5
# A stat() every half minute: cheap, and soon enough after a user swaps the model file.
MODEL_CHECK_INTERVAL_S: Final = 30.0
_STOP_TIMEOUT_S: Final = 10.0
# Unread hops of PCM held before ffmpeg's output is paused (back-pressure): enough to ride out a
# slow prediction, little enough that memory does not depend on the source.
BUFFERED_HOPS: Final = 4
REASON_INFERENCE_FAILED: Final = "inference_failed"


# What the analyser hears now (smoothed and raw coordinates, label, music, level) is exactly
# the mood tracker's state; the Home Assistant side knows it by this name.
MoodReading = MoodState


class PipelineStatus(StrEnum):
    """Where the pipeline is; reported by a diagnostic sensor and in diagnostics."""

    STARTING = "starting"
    RUNNING = "running"
    RECONNECTING = "reconnecting"
    WAITING_FOR_MEDIA = "waiting_for_media"
    UNSUPPORTED_MEDIA = "unsupported_media"
    SOURCE_ERROR = "source_error"
    MODEL_ERROR = "model_error"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class PipelineSettings:
    """How an analyser behaves (entry options) and how hard it tries to keep the stream."""

    smoothing_s: float
    silence_threshold_db: float
    silence_duration_s: float
    mood_dead_band: float = DEFAULT_DEAD_BAND
    mood_dwell_s: float = DEFAULT_DWELL_S
    loop_file: bool = False
    stall_timeout_s: float = STALL_TIMEOUT_S
    backoff_min_s: float = RESTART_BACKOFF_MIN_S
    backoff_max_s: float = RESTART_BACKOFF_MAX_S
    model_check_interval_s: float = MODEL_CHECK_INTERVAL_S


@dataclass(slots=True)
class PipelineStats:
    """Counters and timings for diagnostics and the benchmark."""

    readings: int = 0
    restarts: int = 0
    last_error: str | None = None
    inference_ms: float | None = None
    # Wall time from reading the hop's last byte off ffmpeg's stdout to the listeners being called.
    delivery_ms: float | None = None
    # time.perf_counter() when the last byte of the newest reading's hop was read from ffmpeg.
    last_read_at: float | None = None
    ffmpeg_pid: int | None = None
    ffmpeg_starts: int = 0
    # Bounded by back-pressure: the most unread PCM (bytes) the current stream ever held.
    peak_buffered_bytes: int = 0
    # Times the reader waited so as not to run ahead of the audio's native rate.
    paced_waits: int = 0


@dataclass(frozen=True, slots=True)
class _Prediction:
    raw_valence: float
    raw_arousal: float
    level_dbfs: float
    end_sample: int


class _StreamEnded(Exception):
    """The current stream must be restarted; ``str`` says why (redacted)."""


class _SourceChanged(Exception):
    """What the source plays changed: restart at once, no back-off, no warning."""


class _ModelFailedError(Exception):
    """The model raised while predicting: treat like an unusable model file."""


class _ModelFileChanged(Exception):
    """The model file changed on disk: stop streaming and load it again."""


# (st_mtime_ns, st_size) of a model file; None when it does not exist.
_FileKey = tuple[int, int] | None


class _Backoff:
    def __init__(self, first_s: float, cap_s: float) -> None:
        self._first_s = first_s
        self._cap_s = cap_s
        self._next_s = first_s

    def next(self) -> float:
        delay, self._next_s = self._next_s, min(self._next_s * 2.0, self._cap_s)
        return delay

    def reset(self) -> None:
        self._next_s = self._first_s


class MoodPipeline:
    """Runs an analyser for as long as its config entry is loaded."""

    def __init__(
        self,
        hass: HomeAssistant,
        *,
        entry_id: str,
        name: str,
        source: AudioSource,
        model_id: str,
        user_model_dir: Path,
        ffmpeg_binary: str,
        settings: PipelineSettings,
    ) -> None:
        self._hass = hass
        self._entry_id = entry_id
        self._name = name
        self.source = source
        self.model_id = model_id
        self._user_model_dir = user_model_dir
        self.model_path: Path | None = None
        self.last_end_sample: int | None = None
        self._ffmpeg_binary = ffmpeg_binary
        self.settings = settings
        self.model: MoodModel | None = None
        self.reading: MoodReading | None = None
        self.status = PipelineStatus.STARTING
        self.status_detail: str | None = None
        self.stats = PipelineStats()
        self._tracker = MoodTracker(
            settings.smoothing_s,
            settings.silence_threshold_db,
            settings.silence_duration_s,
            dead_band=settings.mood_dead_band,
            dwell_s=settings.mood_dwell_s,
        )
        self._listeners: list[Callable[[], None]] = []
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._source_changed = False
        self._down_since_logged = False
        self._unsubscribe_source: Callable[[], None] | None = None
        self._unsubscribe_model_check: Callable[[], None] | None = None
        self._process: FfmpegPcmProcess | None = None
        # The model file as it was when last loaded (successfully or not).
        self._model_file_key: _FileKey = None
        self._model_file_changed = False
        self._model_loading = False
        self._model_checking = False
        # A model that loads but fails to predict keeps its repair issue until a reading succeeds.
        self._inference_failed = False

    # ------------------------------------------------------------------ public API

    @property
    def available(self) -> bool:
        return self.status is PipelineStatus.RUNNING and self.reading is not None

    @property
    def hop_seconds(self) -> float:
        if self.model is None:
            return DEFAULT_HOP_S
        info = self.model.info
        return round(info.hop_s * info.sample_rate) / info.sample_rate

    @property
    def issue_id(self) -> str:
        return f"{ISSUE_MODEL_UNUSABLE}_{self._entry_id}"

    @callback
    def async_add_listener(self, update_callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``update_callback`` on every reading and status change; returns the unsubscriber."""
        self._listeners.append(update_callback)

        @callback
        def remove_listener() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(update_callback)

        return remove_listener

    @callback
    def async_start(self, entry: ConfigEntry[Any] | None = None) -> None:
        """Start the background task, tied to ``entry``'s lifetime when given."""
        self._unsubscribe_source = self.source.async_track_changes(self._async_source_changed)
        self._unsubscribe_model_check = async_track_time_interval(
            self._hass,
            self._async_check_model_file,
            timedelta(seconds=self.settings.model_check_interval_s),
            name=f"{DOMAIN} model check {self._name}",
            cancel_on_shutdown=True,
        )
        name = f"{DOMAIN} pipeline {self._name}"
        if entry is None:
            self._task = self._hass.async_create_background_task(self._async_run(), name)
        else:
            self._task = entry.async_create_background_task(self._hass, self._async_run(), name)

    async def async_stop(self) -> None:
        """Stop the task and the ffmpeg process it owns; safe to call more than once."""
        if self._unsubscribe_source is not None:
            self._unsubscribe_source()
            self._unsubscribe_source = None
        if self._unsubscribe_model_check is not None:
            self._unsubscribe_model_check()
            self._unsubscribe_model_check = None
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                async with asyncio.timeout(_STOP_TIMEOUT_S):
                    await asyncio.shield(task)
        self._set_status(PipelineStatus.STOPPED)

    # ------------------------------------------------------------------ the background task

    async def _async_run(self) -> None:
        backoff = _Backoff(self.settings.backoff_min_s, self.settings.backoff_max_s)
        while True:
            try:
                retry_now = await self._async_attempt(backoff)
            except Exception as error:  # nothing may end analysis for good: report, back off, retry
                _LOGGER.exception("%s: unexpected pipeline failure", self._name)
                self._stream_down(f"{type(error).__name__}: {error}")
                retry_now = False
            if not retry_now:
                await self._async_sleep(backoff.next())

    async def _async_attempt(self, backoff: _Backoff) -> bool:
        """Load the model if needed, resolve the source, stream until it ends.

        Every expected failure is reported here (status, repair issue); True when the next attempt
        may start at once (the source or the model file changed), False to back off first.
        """
        if (self.model is None or self._model_file_changed) and not (
            await self._async_load_model()
        ):
            return False
        try:
            ffmpeg_input = await self.source.async_resolve()
        except SourceError as error:
            self._source_unusable(error)
            return False
        except OSError as error:  # a file check the source could not make (e.g. a too long name)
            self._source_unusable(SourceError(REASON_INVALID_SOURCE, f"{error.strerror or error}"))
            return False
        try:
            await self._async_stream(ffmpeg_input, backoff)
        except (_SourceChanged, _ModelFileChanged):
            backoff.reset()
            return True
        except _ModelFailedError as error:
            self._drop_model()
            self._inference_failed = True
            self._model_unusable(REASON_INFERENCE_FAILED, str(error))
        except _StreamEnded as error:
            self._stream_down(str(error))
        return False

    async def _async_load_model(self) -> bool:
        """(Re)load the model file; a file that cannot be used leaves no model loaded."""
        self._model_file_changed = False
        self._model_loading = True
        try:
            self._model_file_key = await self._hass.async_add_executor_job(self._read_model_key)
            self.model_path, model = await self._hass.async_add_executor_job(self._load_model)
        except ModelError as error:
            self._drop_model()
            self._model_unusable(error.reason, str(error))
            return False
        except Exception as error:  # still the model's problem: report it, never end the task
            _LOGGER.debug("%s: loading the model failed unexpectedly", self._name, exc_info=True)
            self._drop_model()
            self._model_unusable("unreadable", f"{type(error).__name__}: {error}")
            return False
        finally:
            self._model_loading = False
        old, self.model = self.model, model
        if self.status is PipelineStatus.MODEL_ERROR and not self._inference_failed:
            _LOGGER.info("%s: model %s is usable again", self._name, self.model_id)
        if old is not None:
            # Safe: the stream that used it has ended; no prediction is in flight.
            old.close()
            _LOGGER.info("%s: model %s changed on disk; reloaded it", self._name, self.model_id)
        if not self._inference_failed:
            ir.async_delete_issue(self._hass, DOMAIN, self.issue_id)
        return True

    def _load_model(self) -> tuple[Path, MoodModel]:
        path = resolve_model(self.model_id, self._user_model_dir)
        return path, load_model(path)

    def _read_model_key(self) -> _FileKey:
        """Blocking (stat): what identifies the model file's content cheaply."""
        try:
            stat = resolve_model(self.model_id, self._user_model_dir).stat()
        except (ModelError, OSError):
            return None
        return (stat.st_mtime_ns, stat.st_size)

    def _drop_model(self) -> None:
        model, self.model = self.model, None
        if model is not None:
            model.close()

    async def _async_check_model_file(self, _now: Any = None) -> None:
        """Timer: a model file removed, broken or replaced is noticed now, not at next reload."""
        if self._model_loading or self._model_checking or self._task is None:
            return
        self._model_checking = True
        try:
            key = await self._hass.async_add_executor_job(self._read_model_key)
        finally:
            self._model_checking = False
        if key == self._model_file_key or self._model_loading or self._model_file_changed:
            return
        _LOGGER.debug("%s: model file %s changed", self._name, self.model_id)
        self._model_file_changed = True
        self._wake.set()
        if self._process is not None:
            self._process.interrupt()

    async def _async_stream(self, ffmpeg_input: FfmpegInput, backoff: _Backoff) -> None:
        model = self.model
        assert model is not None
        info = model.info
        sample_rate = int(info.sample_rate)
        stream = info.excerpt_stream()
        hop_seconds = stream.hop_samples / sample_rate
        command = ffmpeg_input.command(
            self._ffmpeg_binary,
            sample_rate,
            live=True,
            loop=self.settings.loop_file,
            frame_samples=stream.hop_samples,
        )
        process = FfmpegPcmProcess(
            command, max_buffered_bytes=BUFFERED_HOPS * stream.hop_samples * BYTES_PER_SAMPLE
        )
        # Capture devices deliver in real time by nature; everything else could run ahead.
        pacer = (
            None
            if ffmpeg_input.is_capture_device
            else NativeRatePacer(sample_rate, head_start_samples=stream.excerpt_samples)
        )
        self._source_changed = False
        self._process = process
        try:
            try:
                await process.start()
            except FfmpegStartError as error:
                raise _StreamEnded(str(error)) from error
            self.stats.ffmpeg_pid = process.pid
            self.stats.ffmpeg_starts += 1
            self.stats.peak_buffered_bytes = 0
            while True:
                # Read exactly up to the next hop boundary: the hop's last byte wakes us, so the
                # prediction starts the moment its audio exists.
                to_boundary = stream.hop_samples - stream.position % stream.hop_samples
                if pacer is not None and (delay_s := pacer.delay_s(stream.position + to_boundary)):
                    self.stats.paced_waits += 1
                    await asyncio.sleep(delay_s)
                # Opening a stream (DNS, connect, probing) may take longer than a stall.
                timeout_s = self.settings.stall_timeout_s
                if stream.position == 0:
                    timeout_s = max(timeout_s, SOURCE_PROBE_TIMEOUT_S)
                try:
                    data = await process.read_exactly(to_boundary * BYTES_PER_SAMPLE, timeout_s)
                except (FfmpegEndedError, FfmpegStalledError) as error:
                    if self._model_file_changed:
                        raise _ModelFileChanged from error
                    if self._source_changed:
                        raise _SourceChanged from error
                    reason = (
                        f"stream ended ({error})"
                        if isinstance(error, FfmpegEndedError)
                        else str(error)
                    )
                    raise _StreamEnded(reason) from error
                read_at = time.perf_counter()
                if pacer is not None:
                    pacer.audio_started()
                self.stats.peak_buffered_bytes = process.peak_buffered_bytes
                if self._model_file_changed:
                    raise _ModelFileChanged
                if self._source_changed:
                    raise _SourceChanged
                pcm = np.frombuffer(data, dtype="<i2")
                if stream.position + pcm.size < stream.excerpt_samples:
                    stream.push(pcm)  # filling the first excerpt: a copy, no features yet
                    continue
                predictions, seconds = await self._hass.async_add_executor_job(
                    _predict, stream, model, pcm
                )
                if not predictions:
                    continue
                self.stats.inference_ms = seconds * 1000.0
                self.stats.last_read_at = read_at
                for prediction in predictions:
                    self._publish(prediction, hop_seconds)
                backoff.reset()
                self.stats.delivery_ms = (time.perf_counter() - read_at) * 1000.0
        finally:
            self._process = None
            self.stats.ffmpeg_pid = None
            await process.close()

    # ------------------------------------------------------------------ state changes

    @callback
    def _publish(self, prediction: _Prediction, hop_seconds: float) -> None:
        self.reading = self._tracker.update(
            prediction.raw_valence, prediction.raw_arousal, prediction.level_dbfs, hop_seconds
        )
        self.last_end_sample = prediction.end_sample
        self.stats.readings += 1
        if self.status is not PipelineStatus.RUNNING:
            if self._inference_failed:
                self._inference_failed = False
                ir.async_delete_issue(self._hass, DOMAIN, self.issue_id)
            if self._down_since_logged:
                _LOGGER.info("%s: audio from %s is back", self._name, self.source.redacted)
                self._down_since_logged = False
            self.status = PipelineStatus.RUNNING
            self.status_detail = None
        self._notify()

    def _stream_down(self, reason: str) -> None:
        reason = redact_url(reason)  # it may quote the source; it is logged and shown to all users
        self.stats.restarts += 1
        self.stats.last_error = reason
        if not self._down_since_logged:
            _LOGGER.warning(
                "%s: audio from %s is unavailable (%s); retrying with back-off",
                self._name,
                self.source.redacted,
                reason,
            )
            self._down_since_logged = True
        self._set_status(PipelineStatus.RECONNECTING, reason)

    def _source_unusable(self, error: SourceError) -> None:
        status = {
            "waiting_for_media": PipelineStatus.WAITING_FOR_MEDIA,
            "unsupported_media": PipelineStatus.UNSUPPORTED_MEDIA,
        }.get(error.reason, PipelineStatus.SOURCE_ERROR)
        detail = f"{error.reason}: {error.detail}" if error.detail else error.reason
        if status is PipelineStatus.SOURCE_ERROR:
            self._stream_down(detail)
            self._set_status(status, detail)
            return
        self.stats.last_error = detail
        self._set_status(status, detail)

    def _model_unusable(self, reason: str, message: str) -> None:
        self.stats.last_error = message
        if self.status is not PipelineStatus.MODEL_ERROR:
            _LOGGER.error("%s: model %s cannot be used: %s", self._name, self.model_id, message)
        ir.async_create_issue(
            self._hass,
            DOMAIN,
            self.issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=ISSUE_MODEL_UNUSABLE,
            translation_placeholders={
                "name": self._name,
                "model": self.model_id,
                "reason": reason,
                "message": message,
            },
        )
        self._set_status(PipelineStatus.MODEL_ERROR, f"{reason}: {message}")

    @callback
    def _set_status(self, status: PipelineStatus, detail: str | None = None) -> None:
        changed = (status, detail) != (self.status, self.status_detail)
        self.status = status
        self.status_detail = detail
        if changed:
            self._notify()

    @callback
    def _notify(self) -> None:
        for listener in list(self._listeners):
            listener()

    @callback
    def _async_source_changed(self) -> None:
        self._source_changed = True
        self._wake.set()
        if self._process is not None:
            self._process.interrupt()  # a stalled old stream must not delay the new one

    async def _async_sleep(self, seconds: float) -> None:
        """Back-off sleep that a source change cuts short."""
        if not self._wake.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(seconds):
                    await self._wake.wait()
        self._wake.clear()
        self._source_changed = False


def _predict(
    stream: ExcerptStream, model: MoodModel, pcm: np.ndarray[Any, Any]
) -> tuple[list[_Prediction], float]:
    """Executor side: features of every completed excerpt, one batched model call."""
    started = time.perf_counter()
    windows = stream.push(pcm)
    if not windows:
        return [], 0.0
    batch = np.stack([window.features for window in windows]).astype(np.float32)
    loudness = np.stack([window.frame_levels_dbfs for window in windows])
    try:
        outputs = np.asarray(model.predict(batch, loudness), dtype=np.float64)
    except ModelError as error:
        raise _ModelFailedError(str(error)) from error
    except Exception as error:  # an engine failure on a file that loaded: still the model's fault
        raise _ModelFailedError(f"{type(error).__name__}: {error}") from error
    predictions = [
        _Prediction(float(v), float(a), window.level_dbfs, window.end_sample)
        for (v, a), window in zip(outputs.reshape(-1, 2), windows, strict=True)
    ]
    return predictions, time.perf_counter() - started


@dataclass(slots=True)
class MusicMoodData:
    """Runtime data of an analyser entry (``entry.runtime_data``)."""

    pipeline: MoodPipeline


# The architecture document calls it this; same class.
MusicMoodRuntime = MusicMoodData

MusicMoodConfigEntry = ConfigEntry[MusicMoodData]
