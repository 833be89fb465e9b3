"""Following a Music Assistant universal group's stream: built URL, 404 while idle, then audio.

A real aiohttp server stands in for Music Assistant's stream port (404 until the group plays, then
a real MP3 or FLAC stream), a real Home Assistant holds the ``media_player`` state and the Music
Assistant config entry, and real ffmpeg decodes what the built URL serves.
"""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.music_mood.audio_source import (
    REASON_CANNOT_CONNECT,
    REASON_INVALID_SOURCE,
    REASON_WAITING_FOR_MEDIA,
    SourceError,
    async_probe,
)
from custom_components.music_mood.const import (
    CONF_ENTRY_KIND,
    CONF_MODEL,
    CONF_MUSIC_ASSISTANT_URL,
    CONF_SOURCE,
    CONF_SOURCE_TYPE,
    CONF_STREAM_CODEC,
    CONF_STREAM_PORT,
    DOMAIN,
    ENTRY_KIND_ANALYSER,
    SOURCE_TYPE_MUSIC_ASSISTANT_GROUP,
)
from custom_components.music_mood.music_assistant_group import (
    GroupStreamSettings,
    async_group_stream_input,
    group_stream_url,
    host_of_server_url,
)
from custom_components.music_mood.music_mood_core.host_address import HostAddressError
from custom_components.music_mood.music_mood_core.model import DEFAULT_MODEL_ID

from .flows import analyser_source_step
from .processes import free_port, wait_for

GROUP = "ugp_x7k2m9qa"
PLAYER = "media_player.living_room_group"


@dataclass
class StreamPort:
    """Music Assistant's stream port, as far as a group stream goes."""

    port: int
    audio: dict[str, bytes]
    playing: bool = False
    requests: list[str] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(request.path)
        name = request.match_info["name"]
        if not self.playing or name not in self.audio:
            raise web.HTTPNotFound
        response = web.StreamResponse(headers={"Content-Type": "audio/mpeg"})
        await response.prepare(request)
        await response.write(self.audio[name])
        return response


def _encode(tmp_path: Path, codec: str) -> bytes:
    path = tmp_path / f"group.{codec}"
    subprocess.run(
        [
            "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error",
            "-f", "lavfi", "-i", "sine=frequency=330:duration=8:sample_rate=44100",
            "-ac", "2", "-c:a", "libmp3lame" if codec == "mp3" else "flac", str(path),
        ],
        check=True,
    )  # fmt: skip
    return path.read_bytes()


@pytest.fixture
async def stream_port(tmp_path: Path, socket_enabled: None) -> AsyncIterator[StreamPort]:
    server = StreamPort(
        free_port(),
        {f"{GROUP}.{codec}": _encode(tmp_path, codec) for codec in ("mp3", "flac")},
    )
    app = web.Application()
    app.router.add_get("/ugp/{name}", server.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", server.port).start()
    yield server
    await runner.cleanup()


@pytest.fixture
async def session(socket_enabled: None) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


def _music_assistant_entry(hass: HomeAssistant, url: str) -> None:
    """Music Assistant's config entry and its player entity, as its integration registers them."""
    entry = MockConfigEntry(domain="music_assistant", data={"url": url})
    entry.add_to_hass(hass)
    er.async_get(hass).async_get_or_create(
        "media_player",
        "music_assistant",
        GROUP,
        suggested_object_id="living_room_group",
        config_entry=entry,
    )


@pytest.mark.parametrize("codec", ["mp3", "flac"])
async def test_group_stream_waits_while_404_then_decodes(
    hass: HomeAssistant,
    stream_port: StreamPort,
    session: aiohttp.ClientSession,
    codec: str,
) -> None:
    _music_assistant_entry(hass, "http://127.0.0.1:8095")
    hass.states.async_set(PLAYER, "playing", {"active_queue": GROUP})
    settings = GroupStreamSettings(server_host=None, stream_port=stream_port.port, codec=codec)

    with pytest.raises(SourceError) as idle:
        await async_group_stream_input(hass, session, PLAYER, settings)
    assert idle.value.reason == REASON_WAITING_FOR_MEDIA
    assert "404" in idle.value.detail
    assert stream_port.requests == [f"/ugp/{GROUP}.{codec}"]

    stream_port.playing = True
    ffmpeg_input = await async_group_stream_input(hass, session, PLAYER, settings)
    assert ffmpeg_input.source == f"http://127.0.0.1:{stream_port.port}/ugp/{GROUP}.{codec}"
    await async_probe(ffmpeg_input, "ffmpeg", 22050, timeout_s=15.0)  # real audio decoded


async def test_player_not_playing_a_universal_group_is_waiting(
    hass: HomeAssistant, stream_port: StreamPort, session: aiohttp.ClientSession
) -> None:
    settings = GroupStreamSettings(server_host="127.0.0.1", stream_port=stream_port.port)
    stream_port.playing = True
    for state, attributes in (
        ("idle", {"active_queue": GROUP}),
        ("playing", {"active_queue": "media_player.kitchen"}),
        ("playing", {}),
    ):
        hass.states.async_set(PLAYER, state, attributes)
        with pytest.raises(SourceError) as waiting:
            await async_group_stream_input(hass, session, PLAYER, settings)
        assert waiting.value.reason == REASON_WAITING_FOR_MEDIA
    assert stream_port.requests == []


@pytest.mark.parametrize(
    "hostile",
    [
        "ugp_x/../../api/players",
        "ugp_abc.mp3?x=http://evil.example/",
        "http://evil.example/ugp_abc",
        "UGP_ABC",
        "ugp_" + "a" * 41,
        "ugp_abc\n",
        ["ugp_abc"],
    ],
)
async def test_device_supplied_group_ids_outside_the_grammar_are_never_requested(
    hass: HomeAssistant, stream_port: StreamPort, session: aiohttp.ClientSession, hostile: object
) -> None:
    stream_port.playing = True
    hass.states.async_set(PLAYER, "playing", {"active_queue": hostile})
    settings = GroupStreamSettings(server_host="127.0.0.1", stream_port=stream_port.port)
    with pytest.raises(SourceError) as refused:
        await async_group_stream_input(hass, session, PLAYER, settings)
    assert refused.value.reason == REASON_WAITING_FOR_MEDIA
    assert stream_port.requests == []


async def test_stream_server_down_is_a_connection_error(
    hass: HomeAssistant, session: aiohttp.ClientSession
) -> None:
    hass.states.async_set(PLAYER, "playing", {"active_queue": GROUP})
    settings = GroupStreamSettings(server_host="127.0.0.1", stream_port=free_port())
    with pytest.raises(SourceError) as down:
        await async_group_stream_input(hass, session, PLAYER, settings)
    assert down.value.reason == REASON_CANNOT_CONNECT


async def test_server_host_comes_only_from_music_assistant_or_the_administrator(
    hass: HomeAssistant, session: aiohttp.ClientSession
) -> None:
    hass.states.async_set(PLAYER, "playing", {"active_queue": GROUP})
    unknown = GroupStreamSettings(server_host=None)
    with pytest.raises(SourceError) as no_server:
        await async_group_stream_input(hass, session, PLAYER, unknown)
    assert no_server.value.reason == REASON_INVALID_SOURCE
    assert "type the server's address" in no_server.value.detail

    _music_assistant_entry(hass, "http://user:secret@ma.local:8095")  # not an address we build on
    with pytest.raises(SourceError) as bad_url:
        await async_group_stream_input(hass, session, PLAYER, unknown)
    assert bad_url.value.reason == REASON_INVALID_SOURCE
    assert "secret" not in bad_url.value.detail


def test_addresses_and_urls() -> None:
    assert host_of_server_url("http://192.168.1.20:8095") == "192.168.1.20"
    assert host_of_server_url("https://[fd00::5]:8095/") == "fd00::5"
    assert host_of_server_url("http://MA.local") == "ma.local"
    for bad in ("ws://ma.local:8095", "ma.local", "http://a@b:8095", "http://ma_local:1"):
        with pytest.raises(HostAddressError):
            host_of_server_url(bad)
    assert (
        group_stream_url("fd00::5", 8097, GROUP, "flac")
        == f"http://[fd00::5]:8097/ugp/{GROUP}.flac"
    )
    for group_id, codec in ((GROUP, "wav"), ("ugp_a/b", "mp3")):
        with pytest.raises(ValueError, match="not a universal group stream"):
            group_stream_url("ma.local", 8097, group_id, codec)


async def test_analyser_follows_the_group_waiting_while_idle(
    hass: HomeAssistant, stream_port: StreamPort, fast_restarts: None
) -> None:
    _music_assistant_entry(hass, "http://127.0.0.1:8095")
    hass.states.async_set(PLAYER, "playing", {"active_queue": GROUP})
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Living room",
        unique_id=f"{SOURCE_TYPE_MUSIC_ASSISTANT_GROUP}:{PLAYER}",
        data={
            CONF_ENTRY_KIND: ENTRY_KIND_ANALYSER,
            CONF_SOURCE_TYPE: SOURCE_TYPE_MUSIC_ASSISTANT_GROUP,
            CONF_SOURCE: PLAYER,
            CONF_MUSIC_ASSISTANT_URL: "",
            CONF_STREAM_PORT: stream_port.port,
            CONF_STREAM_CODEC: "mp3",
            CONF_MODEL: DEFAULT_MODEL_ID,
        },
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    status = "sensor.living_room_analyser_status"
    valence = "sensor.living_room_valence"
    # The group's stream 404s: waiting, retried with back-off, never a source error.
    await wait_for(lambda: len(stream_port.requests) >= 3, what="three polite retries")
    assert hass.states.get(status).state == "waiting_for_media"
    assert "404" in hass.states.get(status).attributes["detail"]

    stream_port.playing = True
    await wait_for(
        lambda: hass.states.get(valence).state not in ("unavailable", "unknown"),
        timeout_s=30.0,
        what="readings of the group's stream",
    )
    assert set(stream_port.requests) == {f"/ugp/{GROUP}.mp3"}

    # The player stops: the analyser is told at once and waits again.
    hass.states.async_set(PLAYER, "idle", {"active_queue": GROUP})
    await wait_for(lambda: hass.states.get(status).state == "waiting_for_media", what="idle")
    assert hass.states.get(valence).state == "unavailable"
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_flow_creates_a_group_stream_analyser(hass: HomeAssistant) -> None:
    _music_assistant_entry(hass, "http://192.168.1.20:8095")
    hass.states.async_set(PLAYER, "idle", {})  # what it plays is not tested, only that it exists
    result = await analyser_source_step(
        hass,
        SOURCE_TYPE_MUSIC_ASSISTANT_GROUP,
        {CONF_SOURCE: PLAYER, CONF_STREAM_PORT: 8097, CONF_STREAM_CODEC: "flac"},
        model=DEFAULT_MODEL_ID,
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_SOURCE] == PLAYER
    assert result["data"][CONF_MUSIC_ASSISTANT_URL] == ""
    assert result["data"][CONF_STREAM_PORT] == 8097
    assert result["data"][CONF_STREAM_CODEC] == "flac"


@pytest.mark.parametrize(
    ("known_server", "user_input", "error"),
    [
        (True, {CONF_SOURCE: "media_player.nowhere"}, "entity_not_found"),
        (False, {CONF_SOURCE: PLAYER}, "invalid_source"),
        (False, {CONF_SOURCE: PLAYER, CONF_MUSIC_ASSISTANT_URL: "ma.local:8095"}, "invalid_source"),
        (
            False,
            {CONF_SOURCE: PLAYER, CONF_MUSIC_ASSISTANT_URL: "http://a@b:8095"},
            "invalid_source",
        ),
    ],
)
async def test_flow_refuses_what_no_url_can_be_built_from(
    hass: HomeAssistant, known_server: bool, user_input: dict[str, object], error: str
) -> None:
    if known_server:
        _music_assistant_entry(hass, "http://192.168.1.20:8095")
    hass.states.async_set(PLAYER, "playing", {"active_queue": GROUP})
    result = await analyser_source_step(
        hass, SOURCE_TYPE_MUSIC_ASSISTANT_GROUP, user_input, model=DEFAULT_MODEL_ID
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_SOURCE: error}


async def test_flow_takes_a_typed_server_address(hass: HomeAssistant) -> None:
    # Idle: the analyser the flow creates then waits for media instead of probing the address.
    hass.states.async_set(PLAYER, "idle", {})
    result = await analyser_source_step(
        hass,
        SOURCE_TYPE_MUSIC_ASSISTANT_GROUP,
        {CONF_SOURCE: PLAYER, CONF_MUSIC_ASSISTANT_URL: "http://[fd00::5]:8095"},
        model=DEFAULT_MODEL_ID,
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_MUSIC_ASSISTANT_URL] == "http://[fd00::5]:8095"
    assert result["data"][CONF_STREAM_PORT] == 8097
    assert result["data"][CONF_STREAM_CODEC] == "mp3"
