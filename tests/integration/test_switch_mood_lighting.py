"""The "Mood lighting" switch on a real analyser (real ffmpeg, real model, real clip)."""

from __future__ import annotations

from pathlib import Path

from homeassistant.components.light import ColorMode
from homeassistant.const import ATTR_ENTITY_ID, STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import async_mock_service, mock_restore_cache

from custom_components.music_mood.const import CONF_LOOP_FILE, CONF_MOOD_LIGHTS

from .entries import analyser_entry
from .processes import wait_for

SWITCH = "switch.living_room_mood_lighting"
LAMP = "light.reading_lamp"


def _lamp(hass: HomeAssistant) -> None:
    hass.states.async_set(LAMP, STATE_OFF, {"supported_color_modes": [ColorMode.RGB]})


async def test_switch_stops_and_starts_mood_lighting(
    hass: HomeAssistant, media_dir: Path, no_ffmpeg_left: None
) -> None:
    _lamp(hass)
    turn_on = async_mock_service(hass, "light", "turn_on")
    turn_off = async_mock_service(hass, "light", "turn_off")
    entry = analyser_entry(
        str(media_dir / "short.wav"), **{CONF_MOOD_LIGHTS: [LAMP], CONF_LOOP_FILE: True}
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    state = hass.states.get(SWITCH)
    assert state.state == STATE_ON
    assert state.attributes["lights"] == [LAMP]
    registry_entry = er.async_get(hass).async_get(SWITCH)
    assert registry_entry.unique_id == f"{entry.entry_id}_mood_lighting"
    assert registry_entry.translation_key == "mood_lighting"

    await wait_for(lambda: len(turn_on) > 0, what="mood lighting to drive the lamp")
    # The lamp now looks driven, so switching off must give it back (it was off).
    hass.states.async_set(LAMP, STATE_ON, {"supported_color_modes": [ColorMode.RGB]})

    await hass.services.async_call("switch", "turn_off", {ATTR_ENTITY_ID: SWITCH}, blocking=True)
    await hass.async_block_till_done()
    assert hass.states.get(SWITCH).state == STATE_OFF
    assert [call.data[ATTR_ENTITY_ID] for call in turn_off] == [LAMP]
    coordinator = entry.runtime_data.coordinator
    switch_entity = hass.data["entity_components"]["switch"].get_entity(SWITCH)
    assert not switch_entity.driver.enabled
    listeners = [listener for listener, _ in coordinator._listeners.values()]
    assert switch_entity.driver._async_source_updated not in listeners

    sent = len(turn_on)
    await hass.services.async_call("switch", "turn_on", {ATTR_ENTITY_ID: SWITCH}, blocking=True)
    assert hass.states.get(SWITCH).state == STATE_ON
    await wait_for(lambda: len(turn_on) > sent, what="mood lighting to resume")

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def test_switch_remembers_it_was_off(
    hass: HomeAssistant, media_dir: Path, no_ffmpeg_left: None
) -> None:
    mock_restore_cache(hass, [State(SWITCH, STATE_OFF)])
    _lamp(hass)
    turn_on = async_mock_service(hass, "light", "turn_on")
    entry = analyser_entry(str(media_dir / "short.wav"), **{CONF_MOOD_LIGHTS: [LAMP]})
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(SWITCH).state == STATE_OFF

    # Readings flow (the sensors have values) while the lamp is left alone.
    await wait_for(
        lambda: hass.states.get("binary_sensor.living_room_music_playing").state == STATE_ON,
        what="music to be heard",
    )
    assert hass.states.get("sensor.living_room_valence").state != STATE_UNAVAILABLE
    await hass.async_block_till_done()
    assert turn_on == []
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
