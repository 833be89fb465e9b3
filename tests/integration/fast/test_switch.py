"""The mood lighting switch: while on, readings colour the configured light; off, they do not."""

from __future__ import annotations

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.light import ColorMode
from homeassistant.const import ATTR_ENTITY_ID, STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_mock_service
from syrupy.assertion import SnapshotAssertion

from custom_components.music_mood.const import CONF_MOOD_LIGHTS

from .pcm import GeneratedPcmSource, chord
from .snapshots import entities_of_entry

SWITCH = "switch.living_room_mood_lighting"
LAMP = "light.lamp"


async def test_switch_drives_the_lamp_and_stops(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    entity_registry: er.EntityRegistry,
    mock_config_entry: MockConfigEntry,
    generated_pcm: GeneratedPcmSource,
    snapshot: SnapshotAssertion,
) -> None:
    hass.states.async_set(LAMP, STATE_OFF, {"supported_color_modes": [ColorMode.RGB]})
    turn_on = async_mock_service(hass, "light", "turn_on")
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry, options=mock_config_entry.options | {CONF_MOOD_LIGHTS: [LAMP]}
    )
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(SWITCH).state == STATE_ON

    await generated_pcm.play(chord(3.5, (220.0, 277.2, 329.6)))
    await hass.async_block_till_done()
    assert turn_on, "a reading while the switch is on colours the lamp"
    assert turn_on[-1].data[ATTR_ENTITY_ID] == LAMP
    switches = entities_of_entry(hass, entity_registry, mock_config_entry.entry_id, domain="switch")
    assert switches == snapshot(name="switch-on")

    await hass.services.async_call("switch", "turn_off", {ATTR_ENTITY_ID: SWITCH}, blocking=True)
    assert hass.states.get(SWITCH).state == STATE_OFF
    sent = len(turn_on)
    await generated_pcm.play(chord(1.0, (196.0, 233.1, 293.7)))
    await hass.async_block_till_done()
    assert len(turn_on) == sent, "readings while the switch is off leave the lamp alone"

    await hass.services.async_call("switch", "turn_on", {ATTR_ENTITY_ID: SWITCH}, blocking=True)
    await generated_pcm.play(chord(1.0, (220.0, 277.2, 329.6)))
    await hass.async_block_till_done()
    assert len(turn_on) > sent
