"""A camera entity as the audio source: HA's real camera component, an HTTP stream, real ffmpeg."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant

from custom_components.music_mood.const import SOURCE_TYPE_CAMERA

from .camera import StreamCamera, async_setup_camera
from .entries import analyser_entry
from .processes import wait_for

VALENCE = "sensor.living_room_valence"
STATUS = "sensor.living_room_analyser_status"


def _available(hass: HomeAssistant) -> bool:
    return hass.states.get(VALENCE).state != STATE_UNAVAILABLE


async def test_camera_stream_feeds_sensors(
    hass: HomeAssistant, media_dir: Path, stream_server, no_ffmpeg_left: None
) -> None:
    server = stream_server(media_dir / "short.wav", pace=True, loop=True)
    camera_id = await async_setup_camera(hass, StreamCamera("Porch", server.url))
    entry = analyser_entry(camera_id, source_type=SOURCE_TYPE_CAMERA)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await wait_for(lambda: _available(hass), what="the camera's audio to be heard")

    coordinator = entry.runtime_data.coordinator
    assert coordinator.data is not None
    assert float(hass.states.get(VALENCE).state) == round(coordinator.data.valence, 2)
    assert -1.0 <= coordinator.data.arousal <= 1.0
    assert hass.states.get(STATUS).state == "running"
    assert hass.states.get("binary_sensor.living_room_music_playing").state == "on"
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_camera_without_stream_source_waits_for_one(
    hass: HomeAssistant,
    media_dir: Path,
    stream_server,
    fast_restarts: None,
    caplog: pytest.LogCaptureFixture,
    no_ffmpeg_left: None,
) -> None:
    camera = StreamCamera("Porch", None)
    camera_id = await async_setup_camera(hass, camera)
    entry = analyser_entry(camera_id, source_type=SOURCE_TYPE_CAMERA)
    entry.add_to_hass(hass)
    caplog.set_level(logging.INFO, logger="custom_components.music_mood")
    assert await hass.config_entries.async_setup(entry.entry_id)
    coordinator = entry.runtime_data.coordinator

    await wait_for(lambda: hass.states.get(STATUS).state == "source_error", what="the error")
    # Retried with back-off, still unavailable, still one log line.
    await wait_for(lambda: coordinator.stats.restarts >= 3, what="retries")
    assert not _available(hass)
    detail = hass.states.get(STATUS).attributes["detail"]
    assert detail == f"no_stream_source: {camera_id} has no stream source (yet)"
    assert coordinator.stats.ffmpeg_starts == 0

    server = stream_server(media_dir / "short.wav", pace=True, loop=True)
    camera.url = server.url
    await wait_for(lambda: _available(hass), what="the camera's stream to be heard")
    assert hass.states.get(STATUS).attributes["detail"] is None
    down = [r for r in caplog.records if "is unavailable" in r.getMessage()]
    back = [r for r in caplog.records if "is back" in r.getMessage()]
    assert len(down) == 1
    assert "has no stream source" in down[0].getMessage()
    assert down[0].levelno == logging.WARNING
    assert len(back) == 1
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_missing_camera_entity_is_reported(
    hass: HomeAssistant, media_dir: Path, fast_restarts: None
) -> None:
    entry = analyser_entry("camera.nowhere", source_type=SOURCE_TYPE_CAMERA)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await wait_for(lambda: hass.states.get(STATUS).state == "source_error", what="the error")
    assert hass.states.get(STATUS).attributes["detail"] == "entity_not_found: camera.nowhere"
    assert not _available(hass)
    assert await hass.config_entries.async_unload(entry.entry_id)
