"""The one base of every Music Mood entity: updates, availability and device from a coordinator."""

from __future__ import annotations

from typing import Any, TypeVar

from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .coordinator import MusicMoodCoordinator

_CoordinatorT = TypeVar("_CoordinatorT", bound=MusicMoodCoordinator[Any])


class MusicMoodEntity(CoordinatorEntity[_CoordinatorT]):
    """An entity of one entry's device, written whenever its coordinator pushes."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: _CoordinatorT, key: str) -> None:
        super().__init__(coordinator)
        self._attr_unique_id = f"{coordinator.config_entry.entry_id}_{key}"
        self._attr_device_info = coordinator.device_info

    @property
    def available(self) -> bool:
        return self.coordinator.available
