"""Set-up, unload and shutdown of an analyser on generated PCM: nothing outlives the entry."""

from __future__ import annotations

from pathlib import Path

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import EVENT_HOMEASSISTANT_STOP, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.music_mood.const import CONF_SOURCE
from custom_components.music_mood.music_mood_core.stream_loop import StreamStatus

from .clock import until
from .pcm import GeneratedPcmSource, chord

VALENCE = "sensor.living_room_valence"
STATUS = "sensor.living_room_analyser_status"


async def test_unload_closes_the_stream(
    hass: HomeAssistant, init_integration: MockConfigEntry, generated_pcm: GeneratedPcmSource
) -> None:
    coordinator = init_integration.runtime_data.coordinator
    await generated_pcm.play(chord(3.5, (220.0, 277.2, 329.6)))
    assert hass.states.get(VALENCE).state != STATE_UNAVAILABLE

    assert await hass.config_entries.async_unload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert init_integration.state is ConfigEntryState.NOT_LOADED
    assert generated_pcm.stream.closed
    assert coordinator.status is StreamStatus.STOPPED
    assert hass.states.get(VALENCE).state == STATE_UNAVAILABLE


async def test_home_assistant_stop_closes_the_stream(
    hass: HomeAssistant, init_integration: MockConfigEntry, generated_pcm: GeneratedPcmSource
) -> None:
    coordinator = init_integration.runtime_data.coordinator
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await until(hass, lambda: generated_pcm.stream.closed, "the stream to be closed")
    assert coordinator.status is StreamStatus.STOPPED
    assert await hass.config_entries.async_unload(init_integration.entry_id)


async def test_a_source_outside_the_allowlist_fails_setup_for_good(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, generated_pcm: GeneratedPcmSource
) -> None:
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry, data=mock_config_entry.data | {CONF_SOURCE: "/etc/hostname"}
    )
    assert not await hass.config_entries.async_setup(mock_config_entry.entry_id)
    assert mock_config_entry.state is ConfigEntryState.SETUP_ERROR
    assert generated_pcm.streams == []


async def test_a_missing_file_is_retried(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    source_file: Path,
    generated_pcm: GeneratedPcmSource,
) -> None:
    await hass.async_add_executor_job(source_file.unlink)
    mock_config_entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(mock_config_entry.entry_id)
    assert mock_config_entry.state is ConfigEntryState.SETUP_RETRY
    assert generated_pcm.streams == []
