"""The "Mood lighting" switch: an analyser's mood lighting on or off, without removing anything."""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchEntity
from homeassistant.const import STATE_OFF
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.restore_state import RestoreEntity

from .entity import analyser_device_info
from .mood_lighting import MoodLightingDriver, MoodLightingSettings
from .pipeline import MusicMoodConfigEntry

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MusicMoodConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    driver = MoodLightingDriver(
        hass, entry.runtime_data.pipeline, MoodLightingSettings.from_options(entry.options)
    )
    async_add_entities([MoodLightingSwitch(entry, driver)])


class MoodLightingSwitch(SwitchEntity, RestoreEntity):
    """On: the configured lights follow the music. Off: they are given back (or held)."""

    _attr_has_entity_name = True
    _attr_should_poll = False
    _attr_translation_key = "mood_lighting"

    def __init__(self, entry: MusicMoodConfigEntry, driver: MoodLightingDriver) -> None:
        self.driver = driver
        self._attr_unique_id = f"{entry.entry_id}_mood_lighting"
        self._attr_device_info = analyser_device_info(entry)
        self._attr_is_on = True

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        return {"lights": list(self.driver.settings.lights)}

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        # A new analyser starts with mood lighting on; after that the user's last choice sticks.
        last_state = await self.async_get_last_state()
        self._attr_is_on = last_state is None or last_state.state != STATE_OFF
        if self._attr_is_on:
            self.driver.async_enable()
        self.async_on_remove(self.driver.async_disable)

    async def async_turn_on(self, **kwargs: Any) -> None:
        self._attr_is_on = True
        self.driver.async_enable()
        self.async_write_ha_state()

    async def async_turn_off(self, **kwargs: Any) -> None:
        self._attr_is_on = False
        self.driver.async_disable()
        self.async_write_ha_state()
