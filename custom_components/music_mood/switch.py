"""The "Mood lighting" switch: an analyser's mood lighting on or off, without removing anything."""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchEntity
from homeassistant.const import STATE_OFF
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.restore_state import RestoreEntity

from .analyser import AnalyserConfigEntry
from .coordinator import AnalyserCoordinator
from .entity import MusicMoodEntity
from .mood_lighting import MoodLightingDriver

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: AnalyserConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    runtime = entry.runtime_data
    async_add_entities([MoodLightingSwitch(runtime.coordinator, runtime.lighting)])


class MoodLightingSwitch(MusicMoodEntity[AnalyserCoordinator], SwitchEntity, RestoreEntity):
    """On: the configured lights follow the music. Off: they are given back (or held)."""

    _attr_translation_key = "mood_lighting"

    def __init__(self, coordinator: AnalyserCoordinator, driver: MoodLightingDriver) -> None:
        super().__init__(coordinator, "mood_lighting")
        self.driver = driver
        self._attr_is_on = True

    @property
    def available(self) -> bool:
        # The user's choice can be seen and changed whatever the analyser is doing.
        return True

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        return {"lights": list(self.driver.settings.lights)}

    @callback
    def _handle_coordinator_update(self) -> None:
        """Readings change nothing the switch shows (the driver hears them itself)."""

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
