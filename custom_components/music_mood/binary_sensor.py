"""Whether music is playing: off after the level stayed below the silence threshold long enough."""

from __future__ import annotations

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from .entity import MusicMoodEntity
from .pipeline import MusicMoodConfigEntry

PARALLEL_UPDATES = 0

MUSIC_PLAYING = BinarySensorEntityDescription(
    key="music_playing",
    translation_key="music_playing",
    device_class=BinarySensorDeviceClass.SOUND,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MusicMoodConfigEntry,
    async_add_entities: AddEntitiesCallback,
) -> None:
    async_add_entities([MusicPlayingBinarySensor(entry, MUSIC_PLAYING)])


class MusicPlayingBinarySensor(MusicMoodEntity, BinarySensorEntity):
    @property
    def is_on(self) -> bool | None:
        reading = self.pipeline.reading
        return None if reading is None else reading.playing
