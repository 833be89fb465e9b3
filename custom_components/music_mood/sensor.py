"""Valence, arousal and mood sensors, plus diagnostic sensors of the running analyser."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import EntityCategory, UnitOfTime
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .analyser import AnalyserConfigEntry
from .coordinator import AnalyserCoordinator
from .entity import MusicMoodEntity
from .music_mood_core.audio import redact_url
from .music_mood_core.mood import MOODS
from .music_mood_core.stream_loop import StreamStatus

# Readings are pushed by the analyser's coordinator, never polled; nothing to limit.
PARALLEL_UPDATES = 0

UNIT_DBFS = "dBFS"


@dataclass(frozen=True, kw_only=True)
class MusicMoodSensorDescription(SensorEntityDescription):
    value_fn: Callable[[AnalyserCoordinator], float | str | None]
    # Diagnostic status must stay visible exactly when the other entities are unavailable.
    always_available: bool = False


def _reading_value(name: str) -> Callable[[AnalyserCoordinator], float | str | None]:
    def value(coordinator: AnalyserCoordinator) -> float | str | None:
        reading = coordinator.data
        return None if reading is None else getattr(reading, name)

    return value


def _coordinate(name: str) -> Callable[[AnalyserCoordinator], float | str | None]:
    """Valence or arousal to the 2 decimals shown.

    Readings arrive twice a second; rounding the state itself (not only its display) means Home
    Assistant records a new state only when the shown value moves, not 172,800 times a day.
    """

    def value(coordinator: AnalyserCoordinator) -> float | None:
        reading = coordinator.data
        return None if reading is None else round(float(getattr(reading, name)), 2)

    return value


def _engine(coordinator: AnalyserCoordinator) -> str | None:
    return None if coordinator.model is None else coordinator.model.engine


SENSORS: tuple[MusicMoodSensorDescription, ...] = (
    MusicMoodSensorDescription(
        key="valence",
        translation_key="valence",
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=2,
        value_fn=_coordinate("valence"),
    ),
    MusicMoodSensorDescription(
        key="arousal",
        translation_key="arousal",
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=2,
        value_fn=_coordinate("arousal"),
    ),
    MusicMoodSensorDescription(
        key="mood",
        translation_key="mood",
        device_class=SensorDeviceClass.ENUM,
        options=list(MOODS),
        value_fn=_reading_value("mood"),
    ),
    MusicMoodSensorDescription(
        key="inference_latency",
        translation_key="inference_latency",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.MILLISECONDS,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda coordinator: coordinator.stats.inference_ms,
    ),
    MusicMoodSensorDescription(
        key="audio_level",
        translation_key="audio_level",
        native_unit_of_measurement=UNIT_DBFS,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=_reading_value("level_dbfs"),
    ),
    MusicMoodSensorDescription(
        key="model_engine",
        translation_key="model_engine",
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=_engine,
    ),
    MusicMoodSensorDescription(
        key="status",
        translation_key="status",
        device_class=SensorDeviceClass.ENUM,
        options=[status.value for status in StreamStatus],
        entity_category=EntityCategory.DIAGNOSTIC,
        always_available=True,
        value_fn=lambda coordinator: coordinator.status.value,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: AnalyserConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    coordinator = entry.runtime_data.coordinator
    async_add_entities(MusicMoodSensor(coordinator, description) for description in SENSORS)


class MusicMoodSensor(MusicMoodEntity[AnalyserCoordinator], SensorEntity):
    entity_description: MusicMoodSensorDescription

    def __init__(
        self, coordinator: AnalyserCoordinator, description: MusicMoodSensorDescription
    ) -> None:
        super().__init__(coordinator, description.key)
        self.entity_description = description

    @property
    def available(self) -> bool:
        return self.entity_description.always_available or super().available

    @property
    def native_value(self) -> float | str | None:
        return self.entity_description.value_fn(self.coordinator)

    @property
    def extra_state_attributes(self) -> dict[str, str | None] | None:
        if self.entity_description.key != "status":
            return None
        # Says why the analyser is not running (e.g. a media player playing a Spotify URI).
        # Every user can read attributes and the recorder keeps them: nothing secret may show.
        detail = self.coordinator.status_detail
        return {
            "detail": None if detail is None else redact_url(detail),
            "source": self.coordinator.source.redacted,
        }
