"""Serial strip entries: the port must open at setup; the light follows it (see StripCoordinator).

The blocking driver lives in the pure core (`music_mood_core.adalight`); `StripCoordinator` runs
it in Home Assistant's executor and turns I/O failures into availability.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryError, ConfigEntryNotReady

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
)
from .coordinator import StripCoordinator
from .music_mood_core.adalight import SerialStrip, StripConfig, StripError
from .music_mood_core.serial_port import SerialPortError, validate_serial_port

STRIP_PLATFORMS: Final = (Platform.LIGHT,)


def strip_config_from_data(data: Mapping[str, Any]) -> StripConfig:
    """The driver's configuration from a strip entry's data (or a config flow's input)."""
    return StripConfig(
        port=str(data[CONF_PORT]),
        baudrate=int(data.get(CONF_BAUDRATE, DEFAULT_BAUDRATE)),
        led_count=int(data[CONF_LED_COUNT]),
        protocol=str(data.get(CONF_PROTOCOL, DEFAULT_PROTOCOL)),
    )


@dataclass(slots=True)
class StripRuntime:
    """Runtime data of a serial strip entry (``entry.runtime_data``)."""

    coordinator: StripCoordinator

    @callback
    def async_start(self) -> None:
        self.coordinator.async_start()

    async def async_stop(self) -> None:
        # Also when the light refused to unload: a held port blocks the next setup.
        await self.coordinator.async_stop()

    def diagnostics(self) -> dict[str, Any]:
        return {}


SerialStripConfigEntry = ConfigEntry[StripRuntime]


async def async_create_strip_runtime(
    hass: HomeAssistant, entry: SerialStripConfigEntry
) -> StripRuntime:
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
    coordinator = StripCoordinator(hass, entry, strip, keepalive_s)
    try:
        await coordinator.async_open()
    except StripError as err:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="strip_cannot_open",
            translation_placeholders={
                "port": strip.config.port,
                "error": str(err.__cause__ or err),
            },
        ) from err
    return StripRuntime(coordinator=coordinator)
