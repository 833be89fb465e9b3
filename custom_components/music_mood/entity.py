"""Base class of analyser entities: one service device per entry, updates pushed by the pipeline."""

from __future__ import annotations

from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription

from .const import DOMAIN
from .pipeline import MoodPipeline, MusicMoodConfigEntry


def analyser_device_info(entry: MusicMoodConfigEntry) -> DeviceInfo:
    return DeviceInfo(
        identifiers={(DOMAIN, entry.entry_id)},
        name=entry.title,
        entry_type=DeviceEntryType.SERVICE,
        manufacturer="Music Mood",
        model="Music mood analyser",
    )


class MusicMoodEntity(Entity):
    """An entity that shows part of the pipeline's latest reading."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, entry: MusicMoodConfigEntry, description: EntityDescription) -> None:
        self.entity_description = description
        self.pipeline: MoodPipeline = entry.runtime_data.pipeline
        self._attr_unique_id = f"{entry.entry_id}_{description.key}"
        self._attr_device_info = analyser_device_info(entry)

    @property
    def available(self) -> bool:
        return self.pipeline.available

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        self.async_on_remove(self.pipeline.async_add_listener(self.async_write_ha_state))
