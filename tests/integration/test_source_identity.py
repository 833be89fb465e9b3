"""One source, one analyser: the unique id is the canonical source, for every entry (seeded too)."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import quote

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from custom_components.music_mood.const import (
    CONF_SOURCE,
    SOURCE_TYPE_CAMERA,
    SOURCE_TYPE_FFMPEG,
    SOURCE_TYPE_MEDIA_PLAYER,
)
from custom_components.music_mood.source_identity import canonical_source, source_unique_id

from .entries import analyser_entry
from .flows import start_analyser_flow


@pytest.mark.parametrize(
    ("source_type", "spellings", "canonical"),
    [
        (
            SOURCE_TYPE_FFMPEG,
            [
                "/media/music/a b.flac",
                " /media/music/a b.flac ",
                "file:/media/music/a b.flac",
                "file:/media/music/a%20b.flac",
                "file:///media/music/a%20b.flac",
                "FILE:/media/music/a b.flac",
                "//media//music/./a b.flac",
                "/media/music/sub/../a b.flac",
            ],
            "/media/music/a b.flac",
        ),
        (
            SOURCE_TYPE_FFMPEG,
            [
                "http://radio.example/live",
                "http://radio.example/live/",
                "HTTP://Radio.Example:80/live",
                "http://dj:hunter2@radio.example/live",
                "http://dj one:pa ss@radio.example:80/live//",
                "http://radio.example/live#now",
                "http://radio.example/live?token=abc",
                "http://radio.example/live?%74oken=abc&authSig=x",
            ],
            "http://radio.example/live",
        ),
        (
            SOURCE_TYPE_FFMPEG,
            ["https://h.example/s?id=5", "https://h.example:443/s/?id=5&X-Amz-Signature=f"],
            "https://h.example/s?id=5",
        ),
        (
            SOURCE_TYPE_FFMPEG,
            ["rtsp://admin:pw@cam.local:554/Stream1", "rtsp://cam.local/Stream1"],
            "rtsp://cam.local/Stream1",
        ),
        (SOURCE_TYPE_FFMPEG, ["rtsp://cam.local:8554/s"], "rtsp://cam.local:8554/s"),
        (SOURCE_TYPE_FFMPEG, ["rtsps://cam.local:322/s"], "rtsps://cam.local/s"),
        (
            SOURCE_TYPE_FFMPEG,
            ["http://[::1]:8000/x", "http://[::1]:8000/x/"],
            "http://[::1]:8000/x",
        ),
        (SOURCE_TYPE_FFMPEG, ["alsa:hw:1,0", "ALSA:hw:1,0"], "alsa:hw:1,0"),
        (SOURCE_TYPE_CAMERA, ["camera.porch", "Camera.Porch "], "camera.porch"),
        (SOURCE_TYPE_MEDIA_PLAYER, ["media_player.kitchen"], "media_player.kitchen"),
    ],
)
def test_spellings_of_one_source_share_a_canonical_form(
    source_type: str, spellings: list[str], canonical: str
) -> None:
    assert {canonical_source(source_type, spelling) for spelling in spellings} == {canonical}


def test_different_sources_stay_different() -> None:
    pairs = [
        ("http://h/a", "https://h/a"),
        ("http://h/a", "http://h:8000/a"),
        ("http://h/a?id=1", "http://h/a?id=2"),
        ("http://h/A", "http://h/a"),
        ("/media/a.flac", "/media/b.flac"),
        ("alsa:hw:0", "alsa:hw:1"),
    ]
    for first, second in pairs:
        assert source_unique_id(SOURCE_TYPE_FFMPEG, first) != source_unique_id(
            SOURCE_TYPE_FFMPEG, second
        )


def test_malformed_urls_have_an_id_and_raise_nothing() -> None:
    for text in ("http://[::1/x", "file://[x/a.wav", "http://h:99999/x", "http://h:port/x"):
        assert source_unique_id(SOURCE_TYPE_FFMPEG, text) == f"ffmpeg:{text}"


@pytest.mark.parametrize(
    "respell",
    [
        lambda path: f"file:{path}",
        lambda path: f"file://{quote(str(path))}",
        lambda path: f"{path.parent}//./{path.name}",
        lambda path: f"{path.parent}/../{path.parent.name}/{path.name}",
    ],
    ids=["file_url", "file_url_encoded", "double_slash", "dot_dot"],
)
async def test_the_same_file_cannot_be_added_twice(
    hass: HomeAssistant, media_dir: Path, respell
) -> None:
    clip = media_dir / "short.wav"
    result = await start_analyser_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SOURCE: str(clip)}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    await hass.async_block_till_done()

    result = await start_analyser_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SOURCE: respell(clip)}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_the_same_stream_cannot_be_added_twice(
    hass: HomeAssistant, media_dir: Path, stream_server
) -> None:
    server = stream_server(media_dir / "short.wav", pace=False, loop=True)
    result = await start_analyser_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SOURCE: server.url}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    await hass.async_block_till_done()
    respelled = server.url.replace("http://127.0.0.1", "HTTP://dj:s3cret@127.0.0.1") + "/#x"
    result = await start_analyser_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SOURCE: respelled}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_an_entry_without_unique_id_gets_the_canonical_one(
    hass: HomeAssistant, media_dir: Path
) -> None:
    """Like the demo's seeded entry: written without an id, it gets one when set up, and the
    plain path or a file: URL of the same file is then a duplicate."""
    clip = media_dir / "short.wav"
    seeded = analyser_entry(f"file://{clip}")
    seeded.add_to_hass(hass)
    hass.config_entries.async_update_entry(seeded, unique_id=None)
    assert seeded.unique_id is None
    assert await hass.config_entries.async_setup(seeded.entry_id)
    assert seeded.unique_id == f"ffmpeg:{clip}"
    for spelling in (str(clip), f"file:{clip}"):
        result = await start_analyser_flow(hass)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_SOURCE: spelling}
        )
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "already_configured"
    assert await hass.config_entries.async_unload(seeded.entry_id)


async def test_an_existing_duplicate_is_reported_not_renamed(
    hass: HomeAssistant, media_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clip = media_dir / "short.wav"
    first = analyser_entry(str(clip))
    first.add_to_hass(hass)
    assert await hass.config_entries.async_setup(first.entry_id)
    second = analyser_entry(f"file:{clip}")
    second.add_to_hass(hass)
    caplog.set_level(logging.WARNING, logger="custom_components.music_mood")
    assert await hass.config_entries.async_setup(second.entry_id)
    assert first.unique_id == f"ffmpeg:{clip}"
    assert second.unique_id == f"ffmpeg:file:{clip}"  # left alone: two entries may not share one
    assert "analyses the same source as" in caplog.text
    for entry in (first, second):
        assert await hass.config_entries.async_unload(entry.entry_id)
