"""Push coordinators: the analyser's readings and the serial strip's connection.

Neither polls (no update interval). The analyser's stream loop pushes each reading with
``async_set_updated_data`` and every status change to the listeners, as wled feeds its WebSocket
updates; the strip pushes whether its port is usable. Entities take their availability from
``available``, which each coordinator derives from what it knows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.event import async_call_later, async_track_time_interval
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator

from .audio_source import AudioSource
from .const import (
    DOMAIN,
    MODEL_CHECK_INTERVAL_S,
    STRIP_RECONNECT_INITIAL_S,
    STRIP_RECONNECT_MAX_S,
)
from .held_readings import HeldReadings
from .model_holder import ModelHolder
from .music_mood_core.adalight import RGB, SerialStrip, StripError
from .music_mood_core.backoff import Backoff
from .music_mood_core.delay import Lateness
from .music_mood_core.model import MoodModel
from .music_mood_core.model_contract import DEFAULT_SAMPLE_RATE
from .music_mood_core.stream_loop import (
    MoodReading,
    StreamLoop,
    StreamSettings,
    StreamStats,
    StreamStatus,
    hop_seconds,
)
from .pcm_sources import async_resolve_pcm_source

_LOGGER = logging.getLogger(__name__)
_DataT = TypeVar("_DataT")


class MusicMoodCoordinator(DataUpdateCoordinator[_DataT]):
    """What every Music Mood entity listens to: pushed data, availability and its device."""

    config_entry: ConfigEntry[Any]
    device_info: DeviceInfo

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry[Any], name: str) -> None:
        super().__init__(hass, _LOGGER, config_entry=entry, name=name, update_interval=None)

    @property
    def available(self) -> bool:
        raise NotImplementedError


@dataclass(frozen=True, slots=True, kw_only=True)
class AnalyserSettings(StreamSettings):
    """An analyser's options and timing: the stream loop's, plus the source's and the model's."""

    loop_file: bool = False
    model_check_interval_s: float = MODEL_CHECK_INTERVAL_S


class AnalyserCoordinator(MusicMoodCoordinator[MoodReading | None]):
    """The analyser: a stream loop pushing readings, its model holder, its source."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry[Any],
        *,
        source: AudioSource,
        models: ModelHolder,
        ffmpeg_binary: str,
        settings: AnalyserSettings,
    ) -> None:
        super().__init__(hass, entry, f"{DOMAIN} analyser {entry.title}")
        self.device_info = DeviceInfo(
            identifiers={(DOMAIN, entry.entry_id)},
            name=entry.title,
            entry_type=DeviceEntryType.SERVICE,
            manufacturer="Music Mood",
            model="Music mood analyser",
        )
        self.source = source
        self.models = models
        self.settings = settings
        self.stream = StreamLoop(
            name=entry.title,
            source_name=source.redacted,
            settings=settings,
            models=models,
            resolve_source=partial(
                async_resolve_pcm_source,
                source,
                ffmpeg_binary,
                loop_file=settings.loop_file,
                sample_rate=self._model_sample_rate,
            ),
            run_blocking=hass.async_add_executor_job,
            on_reading=self._async_reading,
            on_status=self.async_update_listeners,
        )
        self._cancel_source_tracking: CALLBACK_TYPE | None = None
        # Readings held by the delay option and until the speakers play what they describe.
        self._held = HeldReadings(
            hass,
            lambda: self.stream.delay_plan,
            lambda: self.hop_seconds,
            self.async_set_updated_data,
        )

    @property
    def available(self) -> bool:
        return self.stream.status is StreamStatus.RUNNING and self.data is not None

    @property
    def status(self) -> StreamStatus:
        return self.stream.status

    @property
    def status_detail(self) -> str | None:
        return self.stream.status_detail

    @property
    def stats(self) -> StreamStats:
        return self.stream.stats

    @property
    def delay_lateness(self) -> Lateness:
        """Readings that could not be released when the delay plan said (too late for it)."""
        return self._held.lateness

    @property
    def model(self) -> MoodModel | None:
        return self.models.model

    @property
    def hop_seconds(self) -> float:
        return hop_seconds(self.models.model)

    @callback
    def async_start(self) -> None:
        """Start the stream loop, tied to the entry's lifetime."""
        entry = self.config_entry
        self._cancel_source_tracking = self.source.async_track_changes(self.stream.request_restart)
        self.models.async_watch(self.settings.model_check_interval_s, self.stream.request_restart)
        self.stream.start(
            partial(entry.async_create_background_task, self.hass, name=f"{DOMAIN} {self.name}")
        )

    async def async_stop(self) -> None:
        """Stop the loop and the process it owns; safe to call more than once."""
        if self._cancel_source_tracking is not None:
            self._cancel_source_tracking()
            self._cancel_source_tracking = None
        self.models.async_stop_watching()
        await self.stream.async_stop()
        self._held.cancel()
        await self.source.async_close()

    def _model_sample_rate(self) -> int:
        model = self.models.model
        return int(model.info.sample_rate) if model is not None else DEFAULT_SAMPLE_RATE

    @callback
    def _async_reading(self, reading: MoodReading) -> None:
        self.models.confirm_working()
        # A source that receives audio before it is heard (a Sendspin player, ahead by the
        # server's buffer) says when: the reading waits for it, so lights follow the speakers.
        self._held.push(reading, self.source.seconds_until_heard(reading.end_sample))


class StripCoordinator(MusicMoodCoordinator[bool]):
    """One strip's port: ``data`` says whether it takes frames; writes run off the event loop.

    A strip that is unplugged makes its light unavailable (logged once), is reopened with back-off,
    and is announced once when it is back.
    """

    def __init__(
        self, hass: HomeAssistant, entry: ConfigEntry[Any], strip: SerialStrip, keepalive_s: float
    ) -> None:
        super().__init__(hass, entry, f"{DOMAIN} strip {strip.config.port}")
        config = strip.config
        self.device_info = DeviceInfo(
            identifiers={(DOMAIN, entry.entry_id)},
            name=entry.title,
            manufacturer="Music Mood",
            model=f"{config.protocol} LED strip, {config.led_count} LEDs",
        )
        self.strip = strip
        self.keepalive = timedelta(seconds=keepalive_s)
        self.data = True
        self._backoff = Backoff(STRIP_RECONNECT_INITIAL_S, STRIP_RECONNECT_MAX_S)
        self._cancel_keepalive: CALLBACK_TYPE | None = None
        self._cancel_reconnect: CALLBACK_TYPE | None = None

    @property
    def available(self) -> bool:
        return self.data

    @property
    def port(self) -> str:
        return self.strip.config.port

    async def async_open(self) -> None:
        """Open the port; `StripError` propagates so setup can say the strip is not ready."""
        await self.hass.async_add_executor_job(self.strip.open)

    @callback
    def async_start(self) -> None:
        self._cancel_keepalive = async_track_time_interval(
            self.hass, self._async_keepalive, self.keepalive, name=f"{DOMAIN} strip keep-alive"
        )

    async def async_stop(self) -> None:
        for cancel in (self._cancel_keepalive, self._cancel_reconnect):
            if cancel is not None:
                cancel()
        self._cancel_keepalive = self._cancel_reconnect = None
        await self.hass.async_add_executor_job(self.strip.close)

    async def async_show(self, rgb: RGB, brightness: int) -> None:
        """Show a colour; while disconnected it is remembered and shown on reconnect."""
        try:
            await self.hass.async_add_executor_job(self.strip.show, rgb, brightness)
        except StripError as err:
            self._async_lost(err)

    async def _async_keepalive(self, _now: datetime) -> None:
        if not self.data:
            return
        try:
            await self.hass.async_add_executor_job(self.strip.resend)
        except StripError as err:
            self._async_lost(err)

    @callback
    def _async_lost(self, err: StripError) -> None:
        if not self.data:
            return
        _LOGGER.warning(
            "LED strip on %s is unavailable, retrying in the background: %s", self.port, err
        )
        self._backoff.reset()
        self._async_schedule_reconnect()
        self.async_set_updated_data(False)

    @callback
    def _async_schedule_reconnect(self) -> None:
        self._cancel_reconnect = async_call_later(
            self.hass, self._backoff.next_delay(), self._async_reconnect
        )

    async def _async_reconnect(self, _now: datetime) -> None:
        self._cancel_reconnect = None
        try:
            await self.hass.async_add_executor_job(self.strip.open)
            await self.hass.async_add_executor_job(self.strip.resend)
        except StripError as err:
            _LOGGER.debug("LED strip on %s still unavailable: %s", self.port, err)
            self._async_schedule_reconnect()
            return
        _LOGGER.info("LED strip on %s is available again", self.port)
        self.async_set_updated_data(True)
