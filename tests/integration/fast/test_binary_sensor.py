"""Music playing: on while the generated audio is above the silence threshold, off after it."""

from __future__ import annotations

import pytest
from homeassistant.const import STATE_OFF, STATE_ON, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion

from .pcm import GeneratedPcmSource, chord, silence
from .snapshots import entities_of_entry

PLAYING = "binary_sensor.living_room_music_playing"


@pytest.mark.parametrize("init_integration", [Platform.BINARY_SENSOR], indirect=True)
async def test_music_playing(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    init_integration: MockConfigEntry,
    generated_pcm: GeneratedPcmSource,
    snapshot: SnapshotAssertion,
) -> None:
    entry_id = init_integration.entry_id
    await generated_pcm.play(chord(3.5, (220.0, 277.2, 329.6)))
    assert hass.states.get(PLAYING).state == STATE_ON
    assert entities_of_entry(hass, entity_registry, entry_id) == snapshot(name="music")

    # The silence duration is 1 s: half a second of silence is not enough, 1.5 s is.
    await generated_pcm.play(silence(0.5))
    assert hass.states.get(PLAYING).state == STATE_ON
    await generated_pcm.play(silence(1.0))
    assert hass.states.get(PLAYING).state == STATE_OFF
    assert entities_of_entry(hass, entity_registry, entry_id) == snapshot(name="silence")
