"""Whether music is playing: off after the level stayed below the silence threshold long enough."""

from __future__ import annotations

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .analyser import AnalyserConfigEntry
from .coordinator import AnalyserCoordinator
from .entity import MusicMoodEntity

PARALLEL_UPDATES = 0

MUSIC_PLAYING = BinarySensorEntityDescription(
    key="music_playing",
    translation_key="music_playing",
    device_class=BinarySensorDeviceClass.SOUND,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: AnalyserConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    async_add_entities([MusicPlayingBinarySensor(entry.runtime_data.coordinator)])


class MusicPlayingBinarySensor(MusicMoodEntity[AnalyserCoordinator], BinarySensorEntity):
    entity_description = MUSIC_PLAYING

    def __init__(self, coordinator: AnalyserCoordinator) -> None:
        super().__init__(coordinator, MUSIC_PLAYING.key)

    @property
    def is_on(self) -> bool | None:
        reading = self.coordinator.data
        return None if reading is None else reading.playing
