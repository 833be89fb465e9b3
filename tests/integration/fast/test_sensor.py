"""The analyser's sensors on generated audio: states, attributes and registry entries."""

from __future__ import annotations

import pytest
from homeassistant.const import STATE_UNAVAILABLE, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion

from .pcm import GeneratedPcmSource, chord
from .snapshots import devices_of_entry, engine, entities_of_entry, measured

VALENCE = "sensor.living_room_valence"


def _as_float(text: str) -> float:
    return float(text)


@pytest.mark.parametrize("init_integration", [Platform.SENSOR], indirect=True)
@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_sensors(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    device_registry: dr.DeviceRegistry,
    init_integration: MockConfigEntry,
    generated_pcm: GeneratedPcmSource,
    snapshot: SnapshotAssertion,
    stable_paths: dict[str, str],
) -> None:
    """Before the first reading every sensor but the status is unavailable; after it, states."""
    entry_id = init_integration.entry_id
    before = entities_of_entry(hass, entity_registry, entry_id, paths=stable_paths)
    assert before == snapshot(name="before-the-first-reading")

    await generated_pcm.play(chord(4.0, (220.0, 277.2, 329.6)))
    assert hass.states.get(VALENCE).state != STATE_UNAVAILABLE
    after = entities_of_entry(
        hass,
        entity_registry,
        entry_id,
        paths=stable_paths,
        volatile={
            "sensor.living_room_inference_latency": lambda state: measured(_as_float(state)),
            "sensor.living_room_model_engine": engine,
        },
    )
    assert after == snapshot(name="after-four-seconds-of-a-chord")

    assert devices_of_entry(device_registry, entry_id) == snapshot(name="device")
    (device,) = dr.async_entries_for_config_entry(device_registry, entry_id)
    for entity in er.async_entries_for_config_entry(entity_registry, entry_id):
        assert entity.device_id == device.id
