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
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import StripCoordinator
from .entity import MusicMoodEntity
from .music_mood_core.adalight import RGB
from .strip import SerialStripConfigEntry

# One frame at a time per strip; the driver's lock would serialise them anyway.
PARALLEL_UPDATES = 1

_WHITE: RGB = (255, 255, 255)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SerialStripConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    async_add_entities([SerialStripLight(entry.runtime_data.coordinator)])


class SerialStripLight(MusicMoodEntity[StripCoordinator], LightEntity):
    """All LEDs of the strip in one colour; brightness scales the colour sent."""

    _attr_translation_key = "serial_strip"
    _attr_color_mode = ColorMode.RGB

    def __init__(self, coordinator: StripCoordinator) -> None:
        super().__init__(coordinator, "light")
        self._attr_supported_color_modes = {ColorMode.RGB}
        self._attr_is_on = False
        self._attr_rgb_color = _WHITE
        self._attr_brightness = 255

    async def async_turn_on(self, **kwargs: Any) -> None:
        if ATTR_RGB_COLOR in kwargs:
            red, green, blue = kwargs[ATTR_RGB_COLOR]
            self._attr_rgb_color = (int(red), int(green), int(blue))
        if ATTR_BRIGHTNESS in kwargs:
            self._attr_brightness = int(kwargs[ATTR_BRIGHTNESS])
        self._attr_is_on = True
        await self.coordinator.async_show(
            self._attr_rgb_color or _WHITE, self._attr_brightness or 0
        )
        self.async_write_ha_state()

    async def async_turn_off(self, **kwargs: Any) -> None:
        self._attr_is_on = False
        await self.coordinator.async_show((0, 0, 0), 0)
        self.async_write_ha_state()
