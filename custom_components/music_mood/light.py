"""The serial LED strip as an ordinary RGB light that mood lighting (or anything else) can drive."""

from __future__ import annotations

from typing import Any

from homeassistant.components.light import (
    ATTR_BRIGHTNESS,
    ATTR_RGB_COLOR,
    LightEntity,
)
from homeassistant.components.light.const import ColorMode
from homeassistant.core import HomeAssistant
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN
from .music_mood_core.adalight import RGB
from .strip import SerialStripConfigEntry, StripConnection

# One frame at a time per strip; the driver's lock would serialise them anyway.
PARALLEL_UPDATES = 1

_WHITE: RGB = (255, 255, 255)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SerialStripConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    async_add_entities([SerialStripLight(entry)])


class SerialStripLight(LightEntity):
    """All LEDs of the strip in one colour; brightness scales the colour sent."""

    _attr_has_entity_name = True
    _attr_translation_key = "serial_strip"
    _attr_should_poll = False
    _attr_color_mode = ColorMode.RGB

    def __init__(self, entry: SerialStripConfigEntry) -> None:
        self._connection: StripConnection = entry.runtime_data.connection
        config = self._connection.strip.config
        self._attr_unique_id = f"{entry.entry_id}_light"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, entry.entry_id)},
            name=entry.title,
            manufacturer="Music Mood",
            model=f"{config.protocol} LED strip, {config.led_count} LEDs",
        )
        self._attr_supported_color_modes = {ColorMode.RGB}
        self._attr_is_on = False
        self._attr_rgb_color = _WHITE
        self._attr_brightness = 255

    @property
    def available(self) -> bool:
        return self._connection.available

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        self.async_on_remove(self._connection.async_add_listener(self.async_write_ha_state))

    async def async_turn_on(self, **kwargs: Any) -> None:
        if ATTR_RGB_COLOR in kwargs:
            red, green, blue = kwargs[ATTR_RGB_COLOR]
            self._attr_rgb_color = (int(red), int(green), int(blue))
        if ATTR_BRIGHTNESS in kwargs:
            self._attr_brightness = int(kwargs[ATTR_BRIGHTNESS])
        self._attr_is_on = True
        await self._connection.async_show(
            self._attr_rgb_color or _WHITE, self._attr_brightness or 0
        )
        self.async_write_ha_state()

    async def async_turn_off(self, **kwargs: Any) -> None:
        self._attr_is_on = False
        await self._connection.async_show((0, 0, 0), 0)
        self.async_write_ha_state()
