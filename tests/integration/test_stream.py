"""Live streams: train/serve parity, recovery after the server dies or stalls, following a media
player, many reloads without orphans, model repairs."""

from __future__ import annotations

import logging
import os
import shutil
import signal
from pathlib import Path

import numpy as np
import pytest
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from custom_components.music_mood.const import DOMAIN, SOURCE_TYPE_MEDIA_PLAYER
from custom_components.music_mood.music_mood_core.audio import decode_file
from custom_components.music_mood.music_mood_core.features import FrameGrid, excerpt_features
from custom_components.music_mood.music_mood_core.model import load_model

from .assets import FIXTURE_MODELS, TEST_MODEL
from .entries import analyser_entry
from .processes import ffmpeg_children, pid_alive, wait_for

VALENCE = "sensor.living_room_valence"


def _available(hass: HomeAssistant) -> bool:
    return hass.states.get(VALENCE).state != STATE_UNAVAILABLE


async def test_live_predictions_equal_offline_model(
    hass: HomeAssistant, media_dir: Path, stream_server, no_ffmpeg_left: None
) -> None:
    """Train/serve parity: raw live output at each hop == the offline path on the same samples."""
    clip = media_dir / "stereo_44k.wav"
    server = stream_server(clip, pace=False, loop=False)  # as fast as ffmpeg decodes
    entry = analyser_entry(server.url)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    coordinator = entry.runtime_data.coordinator
    live: dict[int, tuple[float, float]] = {}

    def record() -> None:
        if coordinator.data is not None and coordinator.data.end_sample not in live:
            live[coordinator.data.end_sample] = (
                coordinator.data.raw_valence,
                coordinator.data.raw_arousal,
            )

    unsubscribe = coordinator.async_add_listener(record)
    # 8 s of audio: hops end at 3.0 s .. 8.0 s.
    await wait_for(lambda: len(live) >= 10, what="ten live readings")
    unsubscribe()
    assert await hass.config_entries.async_unload(entry.entry_id)

    model = load_model(Path(hass.config.path("music_mood")) / TEST_MODEL)
    info = model.info
    grid = FrameGrid.from_seconds(info.sample_rate, info.window_s, info.step_s)
    samples = decode_file(clip, info.sample_rate)
    length = grid.excerpt_samples(info.sequence_length)
    ends = sorted(live)
    expected = model.predict(
        np.stack(
            [
                excerpt_features(samples[end - length : end], grid, info.sequence_length)
                for end in ends
            ]
        )
    )
    actual = np.array([live[end] for end in ends])
    np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-5)
    assert ends[0] == 66150
    assert np.diff(ends).tolist() == [11025] * (len(ends) - 1)


async def test_recovers_when_the_server_dies(
    hass: HomeAssistant,
    media_dir: Path,
    stream_server,
    fast_restarts: None,
    caplog: pytest.LogCaptureFixture,
    no_ffmpeg_left: None,
) -> None:
    server = stream_server(media_dir / "short.wav", pace=True, loop=True)
    entry = analyser_entry(server.url.replace("http://", "http://dj:hunter2@"))
    entry.add_to_hass(hass)
    caplog.set_level(logging.INFO, logger="custom_components.music_mood")
    assert await hass.config_entries.async_setup(entry.entry_id)
    coordinator = entry.runtime_data.coordinator
    await wait_for(lambda: _available(hass), what="the first reading")

    server.stop()
    await wait_for(lambda: not _available(hass), what="entities to become unavailable")
    assert hass.states.get("sensor.living_room_analyser_status").state == "reconnecting"
    # Several refused reconnects while the server is away.
    await wait_for(lambda: coordinator.stats.restarts >= 3, what="retries")
    assert not _available(hass)

    server.start()
    await wait_for(lambda: _available(hass), what="recovery")
    down = [r for r in caplog.records if "is unavailable" in r.getMessage()]
    back = [r for r in caplog.records if "is back" in r.getMessage()]
    assert len(down) == 1
    assert len(back) == 1
    assert "hunter2" not in caplog.text
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_recovers_from_a_stalled_stream(
    hass: HomeAssistant, media_dir: Path, stream_server, fast_restarts: None, no_ffmpeg_left: None
) -> None:
    server = stream_server(media_dir / "short.wav", pace=True, loop=True)
    entry = analyser_entry(server.url)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    coordinator = entry.runtime_data.coordinator
    await wait_for(lambda: _available(hass), what="the first reading")
    os.kill(server.pid, signal.SIGSTOP)  # the connection stays open, no byte arrives
    try:
        await wait_for(lambda: not _available(hass), what="the stall to be noticed")
        assert "no audio" in (coordinator.stats.last_error or "")
    finally:
        os.kill(server.pid, signal.SIGCONT)
    await wait_for(lambda: _available(hass), timeout_s=20.0, what="recovery after the stall")
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_follows_a_media_player(
    hass: HomeAssistant, media_dir: Path, stream_server, fast_restarts: None, no_ffmpeg_left: None
) -> None:
    server = stream_server(media_dir / "short.wav", pace=True, loop=True)
    hass.states.async_set("media_player.kitchen", "idle")
    entry = analyser_entry("media_player.kitchen", source_type=SOURCE_TYPE_MEDIA_PLAYER)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    status = "sensor.living_room_analyser_status"
    await wait_for(lambda: hass.states.get(status).state == "waiting_for_media", what="waiting")
    assert not _available(hass)

    hass.states.async_set("media_player.kitchen", "playing", {"media_content_id": server.url})
    await wait_for(lambda: _available(hass), what="the player's stream to be heard")

    hass.states.async_set(
        "media_player.kitchen",
        "playing",
        {"media_content_id": "spotify:track:4uLU6hMCjMI75M1A2tKUQC"},
    )
    await wait_for(lambda: hass.states.get(status).state == "unsupported_media", what="unsupported")
    assert not _available(hass)
    assert "spotify:track" in hass.states.get(status).attributes["detail"]
    assert entry.runtime_data.coordinator.stats.ffmpeg_pid is None

    hass.states.async_set("media_player.kitchen", "playing", {"media_content_id": server.url})
    await wait_for(lambda: _available(hass), what="the stream again")
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_twenty_reloads_leave_no_process_task_or_timer(
    hass: HomeAssistant, media_dir: Path, no_ffmpeg_left: None
) -> None:
    entry = analyser_entry(str(media_dir / "short.wav"))
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    started: list[int] = []
    for _ in range(20):
        coordinator = entry.runtime_data.coordinator
        await wait_for(lambda: coordinator.stats.ffmpeg_pid is not None, what="ffmpeg to start")  # noqa: B023
        started.append(coordinator.stats.ffmpeg_pid)
        assert await hass.config_entries.async_reload(entry.entry_id)
        await hass.async_block_till_done()
        assert len(ffmpeg_children()) <= 1
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert len(set(started)) == 20
    assert [pid for pid in started if pid_alive(pid)] == []
    # phcc's verify_cleanup fixture fails the test on lingering tasks and timers.


async def test_unusable_model_raises_a_repair_issue_until_fixed(
    hass: HomeAssistant, media_dir: Path, fast_restarts: None, no_ffmpeg_left: None
) -> None:
    model_file = Path(hass.config.path("music_mood")) / "mine.onnx"
    shutil.copy(FIXTURE_MODELS / TEST_MODEL, model_file)
    entry = analyser_entry(str(media_dir / "short.wav"), model="user/mine.onnx")
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await wait_for(lambda: _available(hass), what="the first reading")

    shutil.copy(FIXTURE_MODELS / "broken_not_onnx.onnx", model_file)
    assert await hass.config_entries.async_reload(entry.entry_id)
    status = "sensor.living_room_analyser_status"
    await wait_for(lambda: hass.states.get(status).state == "model_error", what="the model error")
    issue_id = f"model_unusable_{entry.entry_id}"
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "model_unusable"
    assert issue.translation_placeholders["reason"] == "not_onnx"
    assert not _available(hass)
    assert ffmpeg_children() == []

    model_file.unlink()
    await wait_for(
        lambda: (
            ir.async_get(hass).async_get_issue(DOMAIN, issue_id).translation_placeholders["reason"]
            == "not_found"
        ),
        what="the missing file to be reported",
    )
    shutil.copy(FIXTURE_MODELS / TEST_MODEL, model_file)
    await wait_for(lambda: _available(hass), what="the fixed model to be used")
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    assert await hass.config_entries.async_unload(entry.entry_id)
