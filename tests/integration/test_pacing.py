"""Live sources are read at native speed with bounded buffers, however fast the server sends."""

from __future__ import annotations

import time
from pathlib import Path

from homeassistant.core import HomeAssistant

from custom_components.music_mood.const import SOURCE_TYPE_MEDIA_PLAYER
from custom_components.music_mood.coordinator import AnalyserCoordinator
from custom_components.music_mood.music_mood_core.audio import BYTES_PER_SAMPLE
from custom_components.music_mood.music_mood_core.stream_loop import BUFFERED_HOPS

from .entries import analyser_entry
from .processes import wait_for

# Linux's default pipe capacity: the most one read of ffmpeg's stdout returns.
PIPE_CAPACITY = 64 * 1024
READINGS = 12


async def _position_against_wall_time(
    coordinator: AnalyserCoordinator, started: float
) -> tuple[float, float]:
    await wait_for(
        lambda: coordinator.stats.readings >= READINGS, timeout_s=30.0, what=f"{READINGS} readings"
    )
    wall_s = time.monotonic() - started
    assert coordinator.model is not None
    assert coordinator.data is not None
    return coordinator.data.end_sample / coordinator.model.info.sample_rate, wall_s


def _assert_paced_and_bounded(
    coordinator: AnalyserCoordinator, position_s: float, wall_s: float
) -> None:
    assert coordinator.model is not None
    info = coordinator.model.info
    excerpt_s = info.window_s + (info.sequence_length - 1) * info.step_s
    # Native speed: at most the one-excerpt head start (and a hop of rounding) ahead of the wall
    # clock. Unpaced, the same server put the analyser minutes into the audio within seconds.
    assert position_s <= wall_s + excerpt_s + info.hop_s, (position_s, wall_s)
    assert coordinator.stats.paced_waits >= READINGS // 2
    hop_bytes = round(info.hop_s * info.sample_rate) * BYTES_PER_SAMPLE
    assert 0 < coordinator.stats.peak_buffered_bytes <= BUFFERED_HOPS * hop_bytes + PIPE_CAPACITY


async def test_a_fast_http_file_is_analysed_at_native_speed(
    hass: HomeAssistant, media_dir: Path, stream_server, no_ffmpeg_left: None
) -> None:
    # An endless file sent as fast as the network allows, like a DLNA or media-source URL.
    server = stream_server(media_dir / "short.wav", pace=False, loop=True)
    entry = analyser_entry(server.url)
    entry.add_to_hass(hass)
    started = time.monotonic()
    assert await hass.config_entries.async_setup(entry.entry_id)
    coordinator = entry.runtime_data.coordinator
    position_s, wall_s = await _position_against_wall_time(coordinator, started)
    print(f"http file: {position_s:.1f} s of audio after {wall_s:.1f} s")
    _assert_paced_and_bounded(coordinator, position_s, wall_s)
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_a_media_player_s_http_file_is_analysed_at_native_speed(
    hass: HomeAssistant, media_dir: Path, stream_server, no_ffmpeg_left: None
) -> None:
    server = stream_server(media_dir / "short.wav", pace=False, loop=True)
    hass.states.async_set("media_player.kodi", "playing", {"media_content_id": server.url})
    entry = analyser_entry("media_player.kodi", source_type=SOURCE_TYPE_MEDIA_PLAYER)
    entry.add_to_hass(hass)
    started = time.monotonic()
    assert await hass.config_entries.async_setup(entry.entry_id)
    coordinator = entry.runtime_data.coordinator
    position_s, wall_s = await _position_against_wall_time(coordinator, started)
    print(f"media player: {position_s:.1f} s of audio after {wall_s:.1f} s")
    _assert_paced_and_bounded(coordinator, position_s, wall_s)
    assert await hass.config_entries.async_unload(entry.entry_id)
