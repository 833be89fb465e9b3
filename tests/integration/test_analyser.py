"""An analyser end to end: real ffmpeg on a real clip -> real model -> sensors, binary sensor."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from homeassistant.config_entries import SOURCE_RECONFIGURE, ConfigEntryState
from homeassistant.const import EVENT_HOMEASSISTANT_STOP, STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

import custom_components.music_mood as music_mood
from custom_components.music_mood.const import (
    CONF_LOOP_FILE,
    CONF_MODEL,
    CONF_SILENCE_DURATION_S,
    CONF_SILENCE_THRESHOLD_DB,
    CONF_SMOOTHING_S,
    CONF_SOURCE,
    CONF_SOURCE_TYPE,
    DOMAIN,
    SOURCE_TYPE_FFMPEG,
)
from custom_components.music_mood.music_mood_core.stream_loop import StreamStatus

from .assets import TEST_MODEL_ID
from .entries import analyser_entry
from .processes import ffmpeg_children, pid_alive, wait_for


async def test_file_source_feeds_sensors(
    hass: HomeAssistant, media_dir: Path, no_ffmpeg_left: None
) -> None:
    entry = analyser_entry(str(media_dir / "short.wav"))
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED

    assert hass.states.get("sensor.living_room_valence").state == STATE_UNAVAILABLE
    assert hass.states.get("sensor.living_room_analyser_status").state == "starting"

    await wait_for(
        lambda: hass.states.get("sensor.living_room_valence").state != STATE_UNAVAILABLE,
        what="the first reading",
    )
    coordinator = entry.runtime_data.coordinator
    reading = coordinator.data
    assert reading is not None
    assert -1.0 <= reading.valence <= 1.0
    assert -1.0 <= reading.arousal <= 1.0
    # The states are the readings rounded to the 2 decimals shown (fewer recorder rows).
    assert float(hass.states.get("sensor.living_room_valence").state) == round(reading.valence, 2)
    assert float(hass.states.get("sensor.living_room_arousal").state) == round(reading.arousal, 2)
    assert hass.states.get("sensor.living_room_mood").state in {"happy", "tense", "sad", "calm"}
    assert hass.states.get("binary_sensor.living_room_music_playing").state == STATE_ON
    assert hass.states.get("sensor.living_room_analyser_status").state == "running"
    # The first excerpt ends after 60 frames of 1102 samples, on the first hop boundary after it.
    assert coordinator.data.end_sample == 66150
    assert coordinator.hop_seconds == pytest.approx(0.5)

    entity_registry = er.async_get(hass)
    valence = entity_registry.async_get("sensor.living_room_valence")
    assert valence.unique_id == f"{entry.entry_id}_valence"
    assert valence.translation_key == "valence"
    latency = entity_registry.async_get("sensor.living_room_inference_latency")
    assert latency.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    assert len(devices) == 1
    device = devices[0]
    assert device.identifiers == {(DOMAIN, entry.entry_id)}
    assert device.entry_type is dr.DeviceEntryType.SERVICE
    assert device.name == "Living room"

    ffmpeg_pid = coordinator.stats.ffmpeg_pid
    assert ffmpeg_pid is not None
    assert pid_alive(ffmpeg_pid)
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert not pid_alive(ffmpeg_pid)
    assert coordinator.status is StreamStatus.STOPPED


async def test_silence_turns_music_off_and_holds_mood(
    hass: HomeAssistant, media_dir: Path, no_ffmpeg_left: None
) -> None:
    entry = analyser_entry(
        str(media_dir / "music_then_silence.wav"), **{CONF_SILENCE_DURATION_S: 1.0}
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    coordinator = entry.runtime_data.coordinator
    held: list[tuple[float, float]] = []

    def remember() -> None:
        if coordinator.data is not None and coordinator.data.playing:
            held.append((coordinator.data.valence, coordinator.data.arousal))

    unsubscribe = coordinator.async_add_listener(remember)
    await wait_for(
        lambda: hass.states.get("binary_sensor.living_room_music_playing").state == STATE_OFF,
        timeout_s=12.0,
        what="silence to be detected",
    )
    unsubscribe()
    assert held, "music was heard before the silence"
    assert hass.states.get("sensor.living_room_mood").state == "none"
    # The last music mood is held, not dragged towards what the model makes of silence.
    assert (coordinator.data.valence, coordinator.data.arousal) == held[-1]
    assert coordinator.data.level_dbfs < -50.0
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_home_assistant_stop_ends_ffmpeg(
    hass: HomeAssistant, media_dir: Path, no_ffmpeg_left: None
) -> None:
    entry = analyser_entry(str(media_dir / "short.wav"))
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    coordinator = entry.runtime_data.coordinator
    await wait_for(lambda: coordinator.stats.ffmpeg_pid is not None, what="ffmpeg to start")
    pid = coordinator.stats.ffmpeg_pid
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await hass.async_block_till_done()
    await wait_for(lambda: not pid_alive(pid), timeout_s=5.0, what="ffmpeg to be reaped")
    assert ffmpeg_children() == []
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_setup_refuses_a_path_that_is_no_longer_usable(
    hass: HomeAssistant, media_dir: Path
) -> None:
    not_allowed = analyser_entry("/etc/hostname")
    not_allowed.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(not_allowed.entry_id)
    assert not_allowed.state is ConfigEntryState.SETUP_ERROR
    assert not_allowed.reason == "The audio source /etc/hostname cannot be used: /etc/hostname"

    missing = analyser_entry(str(media_dir / "gone.wav"))
    missing.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(missing.entry_id)
    assert missing.state is ConfigEntryState.SETUP_RETRY


async def test_reconfigure_and_options_each_reload_once(
    hass: HomeAssistant, media_dir: Path, monkeypatch: pytest.MonkeyPatch, no_ffmpeg_left: None
) -> None:
    """The update listener must not add its own reload to the one reconfigure already does."""
    setups: list[str] = []
    real_setup_entry = music_mood.async_setup_entry

    async def counting_setup_entry(hass: HomeAssistant, entry: MockConfigEntry) -> bool:
        setups.append(entry.entry_id)
        return await real_setup_entry(hass, entry)

    monkeypatch.setattr(music_mood, "async_setup_entry", counting_setup_entry)
    entry = analyser_entry(str(media_dir / "short.wav"))
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert len(setups) == 1

    shutil.copy(media_dir / "short.wav", media_dir / "other.wav")
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SOURCE_TYPE: SOURCE_TYPE_FFMPEG, CONF_MODEL: TEST_MODEL_ID}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SOURCE: str(media_dir / "other.wav")}
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.data[CONF_SOURCE] == str(media_dir / "other.wav")
    assert entry.state is ConfigEntryState.LOADED
    assert len(setups) == 2

    # An options change still reloads, once.
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "pipeline"}
    )
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_SMOOTHING_S: 0.5,
            CONF_SILENCE_THRESHOLD_DB: -40.0,
            CONF_SILENCE_DURATION_S: 2.0,
            CONF_LOOP_FILE: True,
        },
    )
    await hass.async_block_till_done()
    assert entry.options[CONF_SMOOTHING_S] == 0.5
    assert len(setups) == 3
    assert entry.runtime_data.coordinator.settings.smoothing_s == 0.5
    assert await hass.config_entries.async_unload(entry.entry_id)
