"""Sources as an attacker writes them: capture devices that run commands or write files, sources
from cameras and media players (untrusted), listening modes, playlists that reach outside the
allowed folders, and credentials in everything the integration shows. Real Home Assistant, real
ffmpeg, real alsa-lib: on code without these defences, the marker files appear."""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)

from custom_components.music_mood.audio_source import (
    SourceError,
    parse_device_supplied_input,
    parse_ffmpeg_input,
)
from custom_components.music_mood.const import (
    CONF_SOURCE,
    SOURCE_TYPE_CAMERA,
    SOURCE_TYPE_MEDIA_PLAYER,
)
from tests.data_paths import require_data

from .assets import CLIP
from .camera import StreamCamera, async_setup_camera
from .entries import analyser_entry
from .flows import start_analyser_flow
from .processes import ffmpeg_children, free_port, wait_for

STATUS = "sensor.living_room_analyser_status"
PLAYER = "media_player.kitchen"

SourceMaker = Callable[[Path], str]

# alsa-lib's stock "file" PCM runs a FILE starting with '|' through popen(), and otherwise truncates
# and overwrites the file; "tee" does the same beside a real device.
COMMAND: SourceMaker = lambda tmp: f"alsa:file:'|touch {tmp / 'marker'}',raw"  # noqa: E731
OVERWRITE: SourceMaker = lambda tmp: f"alsa:file:'{tmp / 'victim'}',raw"  # noqa: E731
TEE: SourceMaker = lambda tmp: f"alsa:tee:default,'{tmp / 'victim'}',raw"  # noqa: E731
UNQUOTED: SourceMaker = lambda tmp: f"alsa:file:{tmp / 'victim'},raw"  # noqa: E731
NESTED: SourceMaker = lambda tmp: f"alsa:plug:'file:\"|touch {tmp / 'marker'}\",raw'"  # noqa: E731
VICTIM_TEXT = "must stay as it is\n"


@pytest.fixture
def traps(tmp_path: Path) -> Path:
    """A folder with a file an attack would overwrite; a command would create the marker."""
    (tmp_path / "victim").write_text(VICTIM_TEXT)
    return tmp_path


def _untouched(traps: Path) -> bool:
    return not (traps / "marker").exists() and (traps / "victim").read_text() == VICTIM_TEXT


# ---------------------------------------------------------------------------- admin-typed sources


@pytest.mark.parametrize(
    "make_source",
    [COMMAND, OVERWRITE, TEE, UNQUOTED, NESTED],
    ids=["popen", "overwrite", "tee", "unquoted", "nested"],
)
async def test_alsa_plugins_that_run_commands_or_write_files_are_refused_by_the_flow(
    hass: HomeAssistant, media_dir: Path, traps: Path, make_source: SourceMaker
) -> None:
    result = await start_analyser_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SOURCE: make_source(traps)}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_SOURCE: "invalid_source"}
    assert "ALSA" in result["description_placeholders"]["detail"]
    assert ffmpeg_children() == []
    assert _untouched(traps)


async def test_alsa_capture_grammar_in_the_flow(hass: HomeAssistant) -> None:
    good = await hass.async_add_executor_job(
        parse_ffmpeg_input, hass, "alsa:plughw:CARD=Device,DEV=0"
    )
    assert (good.source, good.input_options) == ("plughw:CARD=Device,DEV=0", ("-f", "alsa"))
    for bad in ("alsa:ladspa", "alsa:hw:{0}", "alsa:hw:0 ,0", "pulse:unix:/run/x", "alsa:dsnoop|x"):
        with pytest.raises(SourceError) as raised:
            await hass.async_add_executor_job(parse_ffmpeg_input, hass, bad)
        assert raised.value.reason == "invalid_source"


@pytest.mark.parametrize(
    "template",
    [
        "tcp://127.0.0.1:{port}?listen=1",
        "tcp://127.0.0.1:{port}?listen",
        "tcp://127.0.0.1:{port}?LISTEN=2&timeout=1",
        "srt://127.0.0.1:{port}?mode=listener",
        "srt://127.0.0.1:{port}?mode=rendezvous",
    ],
)
async def test_listen_modes_are_refused_by_the_flow(
    hass: HomeAssistant, media_dir: Path, template: str, socket_enabled: None
) -> None:
    port = free_port()
    result = await start_analyser_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SOURCE: template.format(port=port)}
    )
    assert result["errors"] == {CONF_SOURCE: "invalid_source"}
    assert "accept connections" in result["description_placeholders"]["detail"]
    assert ffmpeg_children() == []
    with socket.socket() as probe, pytest.raises(ConnectionRefusedError):
        probe.connect(("127.0.0.1", port))


async def test_leading_dash_advice_works_and_relative_paths_say_why(
    hass: HomeAssistant, media_dir: Path
) -> None:
    shutil.copy(media_dir / "short.wav", media_dir / "-odd name.wav")
    result = await start_analyser_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SOURCE: "-odd name.wav"}
    )
    assert result["errors"] == {CONF_SOURCE: "invalid_source"}
    detail = result["description_placeholders"]["detail"]
    assert "absolute path" in detail
    assert "./" not in detail
    # What the old advice suggested: refused, and the reason is given.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SOURCE: "./-odd name.wav"}
    )
    assert result["errors"] == {CONF_SOURCE: "invalid_source"}
    detail = result["description_placeholders"]["detail"]
    assert "relative path" in detail
    assert "working directory" in detail
    # What the new advice suggests: works.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SOURCE: str(media_dir / "-odd name.wav")}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert await hass.config_entries.async_unload(result["result"].entry_id)


# ---------------------------------------------------------------------------- local files


def _encode(target: Path, *codec: str) -> Path:
    clip = require_data(CLIP)
    command = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-t", "5", "-i", str(clip), "-vn"]
    subprocess.run(
        [*command, *codec, str(target)],
        check=True,
        timeout=120,
    )
    return target


@pytest.fixture
def outside_file(tmp_path: Path) -> Path:
    """Real music outside every allow-listed folder."""
    outside = tmp_path / "outside"
    outside.mkdir()
    return _encode(outside / "secret.mp3")


@pytest.mark.parametrize(
    ("name", "playlist"),
    [
        ("escape.m3u8", "#EXTM3U\n#EXT-X-TARGETDURATION:5\n#EXTINF:5,\n{target}\n#EXT-X-ENDLIST\n"),
        (
            "escape_url.m3u8",
            "#EXTM3U\n#EXT-X-TARGETDURATION:5\n#EXTINF:5,\nfile:{target}\n#EXT-X-ENDLIST\n",
        ),
        # A playlist does not need the name: ffmpeg probes the content.
        (
            "disguised.wav",
            "#EXTM3U\n#EXT-X-TARGETDURATION:5\n#EXTINF:5,\n{target}\n#EXT-X-ENDLIST\n",
        ),
        # ffconcat lists are also refused by the concat demuxer's own "safe" mode; kept as a guard.
        ("escape.ffconcat", "ffconcat version 1.0\nfile {target}\n"),
    ],
    ids=["hls_path", "hls_file_url", "hls_disguised", "ffconcat"],
)
async def test_playlists_cannot_reach_outside_the_allowed_folders(
    hass: HomeAssistant, media_dir: Path, outside_file: Path, name: str, playlist: str
) -> None:
    assert not hass.config.is_allowed_path(str(outside_file))
    (media_dir / name).write_text(playlist.format(target=outside_file))
    result = await start_analyser_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SOURCE: str(media_dir / name)}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_SOURCE: "cannot_connect"}
    # Refused by the demuxer restriction itself, before the playlist was read.
    assert "not on whitelist" in result["description_placeholders"]["detail"]
    assert ffmpeg_children() == []


@pytest.mark.parametrize(
    ("name", "codec"),
    [
        ("track.mp3", ()),
        ("track.flac", ()),
        ("track.ogg", ("-c:a", "libvorbis")),
        ("track.opus", ()),
        ("track.m4a", ()),
        ("track.mka", ()),
    ],
)
async def test_ordinary_music_files_still_play(
    hass: HomeAssistant, media_dir: Path, name: str, codec: tuple[str, ...]
) -> None:
    _encode(media_dir / name, *codec)
    result = await start_analyser_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SOURCE: str(media_dir / name)}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result.get("description_placeholders")
    await hass.async_block_till_done()
    assert await hass.config_entries.async_unload(result["result"].entry_id)


# ---------------------------------------------------------------------------- http documents


@pytest.fixture
def web_folder(tmp_path: Path, socket_enabled: None) -> Iterator[tuple[Path, str]]:
    """A folder served over http on the loopback (Python's own file server, as a child process)."""
    folder = tmp_path / "web"
    folder.mkdir()
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_tcp(port)
        yield folder, f"http://127.0.0.1:{port}"
    finally:
        server.kill()
        server.wait()


def _wait_for_tcp(port: int) -> None:
    for _ in range(200):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing answered on port {port}")


def _bound_udp_ports() -> set[int]:
    ports = set()
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            ports.add(int(line.split()[1].rsplit(":", 1)[1], 16))
    return ports


def _sdp(udp_port: int) -> str:
    return (
        "v=0\no=- 0 0 IN IP4 127.0.0.1\ns=radio\nc=IN IP4 127.0.0.1\nt=0 0\n"
        f"m=audio {udp_port} RTP/AVP 97\na=rtpmap:97 L16/22050/1\n"
    )


async def test_an_sdp_document_over_http_binds_no_udp_port(
    hass: HomeAssistant,
    media_dir: Path,
    web_folder: tuple[Path, str],
    fast_restarts: None,
) -> None:
    """A media player (or a typed URL) serving SDP would make ffmpeg listen on UDP ports on every
    interface and decode whatever anyone sends there."""
    folder, base_url = web_folder
    udp_port = free_port(socket.SOCK_DGRAM)
    (folder / "radio.sdp").write_text(_sdp(udp_port))
    url = f"{base_url}/radio.sdp"

    result = await start_analyser_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_SOURCE: url})
    assert result["errors"] == {CONF_SOURCE: "cannot_connect"}
    assert "not on whitelist" in result["description_placeholders"]["detail"]

    hass.states.async_set(PLAYER, "playing", {"media_content_id": url})
    entry = analyser_entry(PLAYER, source_type=SOURCE_TYPE_MEDIA_PLAYER)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    coordinator = entry.runtime_data.coordinator
    bound_while_running: list[bool] = []

    def refused_twice() -> bool:
        bound_while_running.append(udp_port in _bound_udp_ports())
        return coordinator.stats.restarts >= 2

    await wait_for(refused_twice, what="ffmpeg to refuse the SDP twice")
    assert "not on whitelist" in hass.states.get(STATUS).attributes["detail"]
    assert not any(bound_while_running)
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_hls_radio_over_http_still_plays(
    hass: HomeAssistant, media_dir: Path, web_folder: tuple[Path, str]
) -> None:
    folder, base_url = web_folder
    _encode(folder / "radio.m3u8", "-c:a", "aac", "-f", "hls", "-hls_time", "2")
    result = await start_analyser_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SOURCE: f"{base_url}/radio.m3u8"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result.get("description_placeholders")
    await hass.async_block_till_done()
    assert await hass.config_entries.async_unload(result["result"].entry_id)


# ------------------------------------------------------------------------ device-supplied sources

REFUSED_FROM_DEVICES: list[tuple[str, SourceMaker]] = [
    ("alsa_popen", COMMAND),
    ("alsa_overwrite", OVERWRITE),
    ("pulse", lambda tmp: "pulse:default"),
    ("alsa_hw", lambda tmp: "alsa:hw:0"),
    ("tcp_listen", lambda tmp: f"tcp://127.0.0.1:{free_port()}?listen=1"),
    ("udp", lambda tmp: f"udp://127.0.0.1:{free_port()}"),
    ("srt_listener", lambda tmp: f"srt://127.0.0.1:{free_port()}?mode=listener"),
    ("rtmp", lambda tmp: "rtmp://127.0.0.1/live/x"),
    ("ftp", lambda tmp: "ftp://127.0.0.1/x.mp3"),
    ("concat", lambda tmp: f"concat:{tmp / 'victim'}|{tmp / 'victim'}"),
    ("subfile", lambda tmp: f"subfile,,start,0,end,0,,:{tmp / 'victim'}"),
    ("relative", lambda tmp: "victim"),
    ("no_host", lambda tmp: "http:///x.mp3"),
    ("bad_url", lambda tmp: "http://[::1/x.mp3"),
    ("bad_file_url", lambda tmp: "file://[x/a.mp3"),
]


@pytest.mark.parametrize(
    "make_source",
    [maker for _, maker in REFUSED_FROM_DEVICES],
    ids=[i for i, _ in REFUSED_FROM_DEVICES],
)
async def test_media_player_content_that_is_not_a_stream_or_allowed_file_is_refused(
    hass: HomeAssistant,
    media_dir: Path,
    traps: Path,
    make_source: SourceMaker,
    socket_enabled: None,
) -> None:
    hass.states.async_set(PLAYER, "playing", {"media_content_id": make_source(traps)})
    entry = analyser_entry(PLAYER, source_type=SOURCE_TYPE_MEDIA_PLAYER)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await wait_for(lambda: hass.states.get(STATUS).state == "unsupported_media", what="the refusal")
    coordinator = entry.runtime_data.coordinator
    assert coordinator.stats.ffmpeg_starts == 0
    assert "cannot be followed" in hass.states.get(STATUS).attributes["detail"]
    assert _untouched(traps)
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert _untouched(traps)


@pytest.mark.parametrize(
    "make_source",
    [
        COMMAND,
        OVERWRITE,
        lambda tmp: "pulse:default",
        lambda tmp: f"tcp://127.0.0.1:{free_port()}?listen=1",
    ],
    ids=["alsa_popen", "alsa_overwrite", "pulse", "tcp_listen"],
)
async def test_camera_stream_source_that_is_not_a_stream_is_refused(
    hass: HomeAssistant,
    media_dir: Path,
    traps: Path,
    make_source: SourceMaker,
    fast_restarts: None,
    socket_enabled: None,
) -> None:
    camera_id = await async_setup_camera(hass, StreamCamera("Porch", make_source(traps)))
    entry = analyser_entry(camera_id, source_type=SOURCE_TYPE_CAMERA)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    coordinator = entry.runtime_data.coordinator
    await wait_for(lambda: hass.states.get(STATUS).state == "source_error", what="the refusal")
    await wait_for(lambda: coordinator.stats.restarts >= 2, what="a retry, refused again")
    assert hass.states.get(STATUS).attributes["detail"].startswith("invalid_source: ")
    detail = hass.states.get(STATUS).attributes["detail"]
    assert "are accepted from a device" in detail
    assert f"{camera_id} gives " in detail
    assert coordinator.stats.ffmpeg_starts == 0
    assert _untouched(traps)
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_camera_may_not_name_a_local_file_but_a_media_player_may(
    hass: HomeAssistant, media_dir: Path
) -> None:
    local = str(media_dir / "short.wav")
    with pytest.raises(SourceError) as raised:
        await hass.async_add_executor_job(
            lambda: parse_device_supplied_input(hass, local, allow_local_files=False)
        )
    assert raised.value.reason == "invalid_source"
    accepted = await hass.async_add_executor_job(
        lambda: parse_device_supplied_input(hass, f"file://{local}", allow_local_files=True)
    )
    assert accepted.is_local_file
    # Local files from a player obey the same allowlist and playlist restrictions.
    assert "-format_whitelist" in accepted.input_options
    with pytest.raises(SourceError) as raised:
        await hass.async_add_executor_job(
            lambda: parse_device_supplied_input(hass, "/etc/hostname", allow_local_files=True)
        )
    assert raised.value.reason == "path_not_allowed"
    for url in ("http://h/x.mp3", "https://h/x", "rtsp://cam/live", "RTSPS://cam:322/live"):
        parsed = await hass.async_add_executor_job(
            lambda url=url: parse_device_supplied_input(hass, url, allow_local_files=False)
        )
        assert parsed.source == url
        assert not parsed.is_capture_device


# ---------------------------------------------------------------------------- credentials

SECRETS = ("dj one", "pa ss word", "SIGSECRET", "CLIENTSECRET", "ENCSECRET", "FRAGSECRET")


async def test_credentials_never_show_in_attributes_diagnostics_or_logs(
    hass: HomeAssistant,
    hass_client,
    media_dir: Path,
    fast_restarts: None,
    caplog: pytest.LogCaptureFixture,
    socket_enabled: None,
) -> None:
    # Nothing listens on the port: ffmpeg fails and quotes the URL in its error, which becomes the
    # status detail, the diagnostics' last error and a warning in the log.
    port = free_port()
    source = (
        f"http://dj one:pa ss word@127.0.0.1:{port}/live.mp3"
        "?authSig=SIGSECRET&client_secret=CLIENTSECRET&%74oken=ENCSECRET&format=mp3#t=FRAGSECRET"
    )
    caplog.set_level(logging.DEBUG, logger="custom_components.music_mood")
    entry = analyser_entry(source)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    coordinator = entry.runtime_data.coordinator
    await wait_for(lambda: coordinator.stats.restarts >= 2, what="ffmpeg to fail twice")
    attributes = hass.states.get(STATUS).attributes
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    shown = {
        "attributes": repr(dict(attributes)),
        "diagnostics": repr(diagnostics),
        "log": caplog.text,
        "unique id": str(entry.unique_id),
    }
    for where, text in shown.items():
        for secret in SECRETS:
            assert secret not in text, f"{secret!r} shows in the {where}"
    assert attributes["source"] == (
        f"http://***:***@127.0.0.1:{port}"
        "/live.mp3?authSig=***&client_secret=***&%74oken=***&format=mp3#***"
    )
    assert "127.0.0.1" in attributes["detail"]  # the reason is still readable
    assert "is unavailable" in caplog.text
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_a_huge_content_id_is_refused_and_shown_short(
    hass: HomeAssistant, media_dir: Path
) -> None:
    """Attributes are recorded: a 200 000-character id (with a password in it) must not be copied
    into them, and must not reach ffmpeg or the file system."""
    content_id = "http://dj:" + "p" * 200_000 + "@radio.example/live.mp3"
    hass.states.async_set(PLAYER, "playing", {"media_content_id": content_id})
    entry = analyser_entry(PLAYER, source_type=SOURCE_TYPE_MEDIA_PLAYER)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await wait_for(lambda: hass.states.get(STATUS).state == "unsupported_media", what="the refusal")
    detail = hass.states.get(STATUS).attributes["detail"]
    assert "at most 4096" in detail
    assert len(detail) < 1000
    assert "pppp" not in detail
    assert entry.runtime_data.coordinator.stats.ffmpeg_starts == 0
    assert await hass.config_entries.async_unload(entry.entry_id)
