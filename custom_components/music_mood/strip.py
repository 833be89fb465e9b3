"""Serial strip entries: open the port, keep the strip alive, reconnect when it comes back.

The blocking driver lives in the pure core (`music_mood_core.adalight`); this module runs it in Home
Assistant's executor and turns I/O failures into availability: a strip that is unplugged makes its
light unavailable (logged once), is retried with back-off, and is announced once when it is back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryError, ConfigEntryNotReady
from homeassistant.helpers.event import async_call_later, async_track_time_interval

from .const import (
    CONF_BAUDRATE,
    CONF_KEEPALIVE_S,
    CONF_LED_COUNT,
    CONF_PORT,
    CONF_PROTOCOL,
    DEFAULT_BAUDRATE,
    DEFAULT_KEEPALIVE_S,
    DEFAULT_PROTOCOL,
    DOMAIN,
    STRIP_RECONNECT_INITIAL_S,
    STRIP_RECONNECT_MAX_S,
)
from .music_mood_core.adalight import RGB, ReconnectBackoff, SerialStrip, StripConfig, StripError
from .music_mood_core.serial_port import SerialPortError, validate_serial_port
from .reload import async_reload_on_options_change

_LOGGER = logging.getLogger(__name__)

STRIP_PLATFORMS: list[Platform] = [Platform.LIGHT]


def strip_config_from_data(data: Mapping[str, Any]) -> StripConfig:
    """The driver's configuration from a strip entry's data (or a config flow's input)."""
    return StripConfig(
        port=str(data[CONF_PORT]),
        baudrate=int(data.get(CONF_BAUDRATE, DEFAULT_BAUDRATE)),
        led_count=int(data[CONF_LED_COUNT]),
        protocol=str(data.get(CONF_PROTOCOL, DEFAULT_PROTOCOL)),
    )


class StripConnection:
    """One strip's port as Home Assistant sees it: availability, and writes off the event loop."""

    def __init__(self, hass: HomeAssistant, strip: SerialStrip, keepalive_s: float) -> None:
        self.hass = hass
        self.strip = strip
        self.keepalive = timedelta(seconds=keepalive_s)
        self.available = True
        self._backoff = ReconnectBackoff(STRIP_RECONNECT_INITIAL_S, STRIP_RECONNECT_MAX_S)
        self._listeners: list[CALLBACK_TYPE] = []
        self._cancel_keepalive: CALLBACK_TYPE | None = None
        self._cancel_reconnect: CALLBACK_TYPE | None = None

    @property
    def port(self) -> str:
        return self.strip.config.port

    @callback
    def async_add_listener(self, listener: CALLBACK_TYPE) -> Callable[[], None]:
        """Call ``listener`` whenever availability changes."""
        self._listeners.append(listener)

        @callback
        def remove() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return remove

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
        if not self.available:
            return
        try:
            await self.hass.async_add_executor_job(self.strip.resend)
        except StripError as err:
            self._async_lost(err)

    @callback
    def _async_lost(self, err: StripError) -> None:
        if not self.available:
            return
        _LOGGER.warning(
            "LED strip on %s is unavailable, retrying in the background: %s", self.port, err
        )
        self.available = False
        self._backoff.reset()
        self._async_schedule_reconnect()
        self._async_notify()

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
        self.available = True
        self._async_notify()

    @callback
    def _async_notify(self) -> None:
        for listener in list(self._listeners):
            listener()


@dataclass(slots=True)
class SerialStripRuntime:
    """Runtime data of a serial strip entry (``entry.runtime_data``)."""

    connection: StripConnection


SerialStripConfigEntry = ConfigEntry[SerialStripRuntime]


async def async_setup_serial_strip_entry(hass: HomeAssistant, entry: ConfigEntry[Any]) -> bool:
    """Test before setup: the port must open, else Home Assistant retries later.

    A port string that is not allowed at all (an entry from before ports were validated) fails for
    good instead: retrying cannot make it acceptable, reconfiguring can.
    """
    try:
        validate_serial_port(str(entry.data[CONF_PORT]))
    except SerialPortError as err:
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="strip_port_refused",
            translation_placeholders={"error": str(err)},
        ) from err
    strip = SerialStrip(strip_config_from_data(entry.data))
    keepalive_s = float(entry.options.get(CONF_KEEPALIVE_S, DEFAULT_KEEPALIVE_S))
    connection = StripConnection(hass, strip, keepalive_s)
    try:
        await connection.async_open()
    except StripError as err:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="strip_cannot_open",
            translation_placeholders={
                "port": strip.config.port,
                "error": str(err.__cause__ or err),
            },
        ) from err
    entry.runtime_data = SerialStripRuntime(connection=connection)
    connection.async_start()
    async_reload_on_options_change(entry)
    await hass.config_entries.async_forward_entry_setups(entry, STRIP_PLATFORMS)
    return True


async def async_unload_serial_strip_entry(hass: HomeAssistant, entry: ConfigEntry[Any]) -> bool:
    unloaded = await hass.config_entries.async_unload_platforms(entry, STRIP_PLATFORMS)
    # Close the port even if the platform refused: a held port blocks the next setup.
    runtime: SerialStripRuntime = entry.runtime_data
    await runtime.connection.async_stop()
    return unloaded
