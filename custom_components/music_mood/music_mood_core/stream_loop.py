"""The analyser's stream loop: source -> PCM -> excerpts -> model (off the loop) -> mood readings.

One task owns everything that runs: it gets the model, resolves the source, opens one PCM stream
and restarts it with capped exponential back-off when it ends, fails or stalls. Every failure is a
status with a detail, never the end of the task. Nothing here knows Home Assistant: the caller
passes the model provider, the source resolver, where blocking work runs and how to spawn the
task, and hears about readings and status changes through two callbacks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any, Final, Protocol, TypeVar

import numpy as np

from .audio import BYTES_PER_SAMPLE, redact_url
from .backoff import Backoff
from .delay import DEFAULT_DELAY_S, DelayPlan, plan_delay
from .features import ExcerptStream
from .model import ModelError, MoodModel
from .model_contract import DEFAULT_HOP_S
from .mood import DEFAULT_DEAD_BAND, DEFAULT_DWELL_S, MoodState, MoodTracker
from .pacing import NativeRatePacer
from .pcm_source import PcmFormat, PcmSource, PcmStream, SourceUnavailableError
from .timeline import Timeline, timeline_step

_LOGGER = logging.getLogger(__name__)
_T = TypeVar("_T")

# Unread hops of PCM held before the source's output is paused (back-pressure): enough to ride out
# a slow prediction, little enough that memory does not depend on the source.
BUFFERED_HOPS: Final = 4
_STOP_TIMEOUT_S: Final = 10.0
REASON_INFERENCE_FAILED: Final = "inference_failed"


class StreamStatus(StrEnum):
    """Where the analyser is; reported by a diagnostic sensor and in diagnostics."""

    STARTING = "starting"
    RUNNING = "running"
    RECONNECTING = "reconnecting"
    WAITING_FOR_MEDIA = "waiting_for_media"
    UNSUPPORTED_MEDIA = "unsupported_media"
    SOURCE_ERROR = "source_error"
    MODEL_ERROR = "model_error"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamSettings:
    """How the mood is tracked and how hard the loop tries to keep the stream."""

    smoothing_s: float
    silence_threshold_db: float
    silence_duration_s: float
    mood_dead_band: float = DEFAULT_DEAD_BAND
    mood_dwell_s: float = DEFAULT_DWELL_S
    # No audio for this long is a stalled stream; the first audio (DNS, connect, probing) may
    # take up to the probe timeout instead.
    stall_timeout_s: float
    probe_timeout_s: float
    backoff_min_s: float
    backoff_max_s: float
    # Readings against the audio (-2..+5 s): this loop honours the negative part on paced sources
    # by reading ahead; holding readings back (the positive part) and advancing them against a
    # known play time (the negative part there) is the listener's (a DelayLine).
    delay_s: float = DEFAULT_DELAY_S


@dataclass(frozen=True, slots=True)
class MoodReading(MoodState):
    """What the analyser hears now (the mood tracker's state) and where its hop ended."""

    end_sample: int = 0

    @classmethod
    def of(cls, state: MoodState, end_sample: int) -> MoodReading:
        values = {field.name: getattr(state, field.name) for field in fields(MoodState)}
        return cls(**values, end_sample=end_sample)


@dataclass(slots=True)
class StreamStats:
    """Counters and timings for diagnostics and the benchmark."""

    readings: int = 0
    restarts: int = 0
    last_error: str | None = None
    inference_ms: float | None = None
    # Wall time from reading the hop's last byte off the stream to the listeners being called.
    delivery_ms: float | None = None
    # time.perf_counter() when the last byte of the newest reading's hop was read.
    last_read_at: float | None = None
    # The process decoding the current stream (ffmpeg), and how many streams were started.
    ffmpeg_pid: int | None = None
    ffmpeg_starts: int = 0
    # Bounded by back-pressure: the most unread PCM (bytes) the current stream ever held.
    peak_buffered_bytes: int = 0
    # Times the reader waited so as not to run ahead of the audio's native rate.
    paced_waits: int = 0


class ModelProvider(Protocol):
    """Loads the model when needed and reports what is wrong with it (a repair issue)."""

    async def async_model(self) -> MoodModel:
        """The usable model, (re)loaded if needed; ModelError (already reported) if none is."""

    def report_failure(self, message: str) -> None:
        """The model raised while predicting: drop it and report, as for an unusable file."""

    def confirm_working(self) -> None:
        """A reading came through: a failure reported earlier is over."""


class RunBlocking(Protocol):
    def __call__(self, job: Callable[[], _T], /) -> Awaitable[_T]: ...


def hop_seconds(model: MoodModel | None) -> float:
    """Seconds between readings: the model's hop, rounded to whole samples as streamed."""
    if model is None:
        return DEFAULT_HOP_S
    info = model.info
    return round(info.hop_s * info.sample_rate) / info.sample_rate


class _Restart(Exception):
    """The source or the model file changed: restart at once, no back-off, no warning."""


class _StreamEnded(Exception):
    """The current stream must be restarted; ``str`` says why."""


class _ModelFailedError(Exception):
    """The model raised while predicting: treat like an unusable model file."""


class StreamLoop:
    """Turns a source into mood readings for as long as it runs."""

    def __init__(
        self,
        *,
        name: str,
        source_name: str,
        settings: StreamSettings,
        models: ModelProvider,
        resolve_source: Callable[[], Awaitable[PcmSource]],
        run_blocking: RunBlocking,
        on_reading: Callable[[MoodReading], None],
        on_status: Callable[[], None],
    ) -> None:
        self._name = name
        self._source_name = source_name
        self.settings = settings
        self._models = models
        self._resolve_source = resolve_source
        self._run_blocking = run_blocking
        self._on_reading = on_reading
        self._on_status = on_status
        self.status = StreamStatus.STARTING
        self.status_detail: str | None = None
        self.stats = StreamStats()
        self._tracker = MoodTracker(
            settings.smoothing_s,
            settings.silence_threshold_db,
            settings.silence_duration_s,
            dead_band=settings.mood_dead_band,
            dwell_s=settings.mood_dwell_s,
        )
        self._backoff = Backoff(settings.backoff_min_s, settings.backoff_max_s)
        # Why the audio went away, as logged when it did; None while audio flows. Whatever the
        # status passes through meanwhile, an outage is logged once and its end once.
        self._outage: str | None = None
        # Set by request_restart; cleared when an attempt starts, so no request is lost.
        self._restart = asyncio.Event()
        self._stream: PcmStream | None = None
        self._task: asyncio.Task[None] | None = None
        # How the current source honours the delay (diagnostics: what a live source cannot give).
        self.delay_plan: DelayPlan = plan_delay(settings.delay_s, paced=True)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self, spawn: Callable[[Coroutine[Any, Any, None]], asyncio.Task[None]]) -> None:
        """Run the loop in the task ``spawn`` makes of it (the caller's task bookkeeping)."""
        self._task = spawn(self._async_run())

    async def async_stop(self) -> None:
        """Stop the task and the stream it owns; safe to call more than once."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                async with asyncio.timeout(_STOP_TIMEOUT_S):
                    await asyncio.shield(task)
        self._set_status(StreamStatus.STOPPED)

    def request_restart(self) -> None:
        """The source or the model file changed: end the stream (or the back-off) now."""
        self._restart.set()
        if self._stream is not None:
            self._stream.interrupt()  # a stalled old stream must not delay the new one

    # ------------------------------------------------------------------ the task

    async def _async_run(self) -> None:
        while True:
            try:
                retry_now = await self._async_attempt()
            except Exception as error:  # nothing may end analysis for good: report, back off, retry
                _LOGGER.exception("%s: unexpected analyser failure", self._name)
                self._stream_down(f"{type(error).__name__}: {error}")
                retry_now = False
            if not retry_now:
                await self._async_sleep(self._backoff.next_delay())

    async def _async_attempt(self) -> bool:
        """Get the model, resolve the source, stream until it ends.

        Every expected failure is reported here; True when the next attempt may start at once
        (the source or the model file changed), False to back off first.
        """
        self._restart.clear()
        try:
            model = await self._models.async_model()
        except ModelError as error:
            self._set_status(StreamStatus.MODEL_ERROR, f"{error.reason}: {error}")
            self.stats.last_error = str(error)
            return False
        try:
            source = await self._resolve_source()
        except SourceUnavailableError as error:
            self._source_unavailable(error)
            return False
        try:
            await self._async_stream(source, model)
        except SourceUnavailableError as error:  # e.g. a FIFO nobody writes to: waiting for audio
            self._source_unavailable(error)
        except _Restart:
            self._backoff.reset()
            return True
        except _ModelFailedError as error:
            self._models.report_failure(str(error))
            self.stats.last_error = str(error)
            self._set_status(StreamStatus.MODEL_ERROR, f"{REASON_INFERENCE_FAILED}: {error}")
        except _StreamEnded as error:
            self._stream_down(str(error))
        return False

    async def _async_stream(self, source: PcmSource, model: MoodModel) -> None:
        excerpts = model.info.excerpt_stream()
        sample_rate = int(model.info.sample_rate)
        stream = source.open(
            PcmFormat(
                sample_rate=sample_rate,
                hop_samples=excerpts.hop_samples,
                max_buffered_bytes=BUFFERED_HOPS * excerpts.hop_samples * BYTES_PER_SAMPLE,
            )
        )
        # Real-time sources deliver at the native rate by nature; everything else could run ahead,
        # and does by a negative delay's length.
        self.delay_plan = plan_delay(
            self.settings.delay_s,
            paced=not source.real_time,
            knows_play_time=source.knows_play_time,
        )
        pacer = (
            None
            if source.real_time
            else NativeRatePacer(
                sample_rate,
                head_start_samples=excerpts.excerpt_samples
                + self.delay_plan.read_ahead_samples(sample_rate),
            )
        )
        self._stream = stream
        try:
            try:
                await stream.start()
            except OSError as error:
                raise _StreamEnded(str(error)) from error
            self.stats.ffmpeg_pid = stream.pid
            self.stats.ffmpeg_starts += 1
            self.stats.peak_buffered_bytes = 0
            while True:
                await self._async_hop(stream, excerpts, model, pacer)
        finally:
            self._stream = None
            self.stats.ffmpeg_pid = None
            await stream.close()

    async def _async_hop(
        self,
        stream: PcmStream,
        excerpts: ExcerptStream,
        model: MoodModel,
        pacer: NativeRatePacer | None,
    ) -> None:
        """Read up to the next hop boundary and publish what it completes.

        Reading exactly to the boundary means the hop's last byte wakes us, so the prediction
        starts the moment its audio exists.
        """
        to_boundary = excerpts.hop_samples - excerpts.position % excerpts.hop_samples
        if pacer is not None and (delay_s := pacer.delay_s(excerpts.position + to_boundary)):
            self.stats.paced_waits += 1
            await asyncio.sleep(delay_s)
        data = await self._async_read(stream, to_boundary * BYTES_PER_SAMPLE, excerpts.position)
        read_at = time.perf_counter()
        if pacer is not None:
            pacer.audio_started()
        self.stats.peak_buffered_bytes = stream.peak_buffered_bytes
        if self._restart.is_set():
            raise _Restart
        pcm = np.frombuffer(data, dtype="<i2")
        if excerpts.position + pcm.size < excerpts.excerpt_samples:
            excerpts.push(pcm)  # filling the first excerpt: a copy, no features yet
            return
        readings, seconds = await self._run_blocking(lambda: _predict(excerpts, model, pcm))
        if not len(readings):
            return
        self.stats.inference_ms = seconds * 1000.0
        self.stats.last_read_at = read_at
        hop_s = hop_seconds(model)
        for valence, arousal, level, end_sample in zip(
            readings.valence,
            readings.arousal,
            readings.level_dbfs,
            readings.end_samples,
            strict=True,
        ):
            self._publish(float(valence), float(arousal), float(level), int(end_sample), hop_s)
        self._backoff.reset()
        self.stats.delivery_ms = (time.perf_counter() - read_at) * 1000.0

    async def _async_read(self, stream: PcmStream, n_bytes: int, position: int) -> bytes:
        timeout_s = self.settings.stall_timeout_s
        if position == 0:
            timeout_s = max(timeout_s, self.settings.probe_timeout_s)
        try:
            return await stream.read_exactly(n_bytes, timeout_s)
        except (EOFError, TimeoutError) as error:
            if self._restart.is_set():
                raise _Restart from error
            reason = f"stream ended ({error})" if isinstance(error, EOFError) else str(error)
            raise _StreamEnded(reason) from error

    # ------------------------------------------------------------------ state changes

    def _publish(
        self, raw_valence: float, raw_arousal: float, level: float, end_sample: int, hop_s: float
    ) -> None:
        state = self._tracker.update(raw_valence, raw_arousal, level, hop_s)
        self.stats.readings += 1
        if self.status is not StreamStatus.RUNNING:
            if self._outage is not None:
                _LOGGER.info("%s: audio from %s is back", self._name, self._source_name)
                self._outage = None
            self.status = StreamStatus.RUNNING
            self.status_detail = None
        self._on_reading(MoodReading.of(state, end_sample))

    def _stream_down(self, reason: str) -> None:
        reason = redact_url(reason)  # it may quote the source; it is logged and shown to all users
        self.stats.restarts += 1
        self.stats.last_error = reason
        if self._outage is None:
            self._outage = reason
            _LOGGER.warning(
                "%s: audio from %s is unavailable (%s); retrying with back-off",
                self._name,
                self._source_name,
                reason,
            )
        self._set_status(StreamStatus.RECONNECTING, reason)

    def _source_unavailable(self, error: SourceUnavailableError) -> None:
        status = StreamStatus(error.kind)
        if status is StreamStatus.SOURCE_ERROR:
            self._stream_down(error.detail)
        else:
            self.stats.last_error = error.detail
        self._set_status(status, error.detail)

    def _set_status(self, status: StreamStatus, detail: str | None = None) -> None:
        changed = (status, detail) != (self.status, self.status_detail)
        self.status = status
        self.status_detail = detail
        if changed:
            self._on_status()

    async def _async_sleep(self, seconds: float) -> None:
        """Back-off sleep that a restart request cuts short."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._restart.wait()


def _predict(
    excerpts: ExcerptStream, model: MoodModel, pcm: np.ndarray[Any, Any]
) -> tuple[Timeline, float]:
    """Blocking side: features of every completed excerpt, one batched model call."""
    started = time.perf_counter()
    try:
        readings = timeline_step(excerpts, model, pcm)
    except ModelError as error:
        raise _ModelFailedError(str(error)) from error
    except Exception as error:  # an engine failure on a file that loaded: still the model's fault
        raise _ModelFailedError(f"{type(error).__name__}: {error}") from error
    return readings, time.perf_counter() - started
