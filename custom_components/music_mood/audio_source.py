"""Where an analyser's audio comes from: an ffmpeg input, a camera stream, a media player's media,
a Music Assistant group's stream, or Music Assistant itself through a Sendspin player.

Each ffmpeg kind resolves, when the stream loop (re)starts, to one ffmpeg input; a Sendspin source
owns its player (connected for the entry's lifetime) and resolves to the PCM stream it receives.
Anything that cannot be used yet or at all raises SourceError with a reason that is also a
translation key.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import SplitResult, parse_qsl, unquote, urlsplit

from homeassistant.const import STATE_PLAYING
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.event import async_track_state_change_event

from .const import (
    CONF_MUSIC_ASSISTANT_URL,
    CONF_STREAM_CODEC,
    CONF_STREAM_PORT,
    SOURCE_TYPE_CAMERA,
    SOURCE_TYPE_MEDIA_PLAYER,
    SOURCE_TYPE_MUSIC_ASSISTANT_GROUP,
    SOURCE_TYPE_RAW_PCM_PIPE,
    SOURCE_TYPE_RAW_PCM_UDP,
    SOURCE_TYPE_SENDSPIN,
)
from .music_mood_core.audio import (
    BYTES_PER_SAMPLE,
    UnsafeSourceError,
    ffmpeg_pcm_command,
    hop_grouping_options,
    redact_source,
    redact_url,
    validate_source,
)
from .music_mood_core.capture_device import (
    CAPTURE_DRIVERS,
    CaptureDeviceError,
    validate_capture_device,
)
from .music_mood_core.ffmpeg_process import (
    FfmpegEndedError,
    FfmpegPcmProcess,
    FfmpegStalledError,
    FfmpegStartError,
)
from .music_mood_core.pcm_source import PcmSource, SourceUnavailableError
from .music_mood_core.sendspin_wire import SendspinUrlError, parse_server_url
from .sendspin_player import SendspinPlayer

if TYPE_CHECKING:
    from .music_assistant_group import GroupStreamSettings
    from .raw_pcm_input import RawPcmInput

NETWORK_SCHEMES: Final = frozenset(
    {"http", "https", "rtsp", "rtsps", "rtmp", "rtmps", "rtp", "srt", "udp", "tcp", "mms", "mmsh"}
)
# What a camera's stream source or a media player's content id may be: data that other integrations
# and the devices themselves supply, so only what the README promises.
DEVICE_SUPPLIED_SCHEMES: Final = frozenset({"http", "https", "rtsp", "rtsps"})
# Demuxers that read one self-contained file. Playlist and list demuxers (hls, concat, ffmetadata,
# image2, dash, ...) open further files named inside the file, which could lie outside the
# allow-listed folders, so they are left out; "file" keeps any other protocol out as well.
LOCAL_FILE_DEMUXERS: Final = (
    "wav,w64,mp3,flac,ogg,matroska,mov,aac,ac3,eac3,aiff,ape,wv,asf,caf,au,dsf,tta,mpc,mpc8,dts,"
    "truehd,tak,amr,avi,mpeg,mpegts,flv,xwma,mlp,loas,shn,oma"
)
# Over http(s) HLS is a normal radio format (its segments stay on http(s): ffmpeg limits what an
# http input may open). SDP is not on the list: an SDP document makes ffmpeg bind UDP ports on every
# interface and decode whatever anyone sends there.
HTTP_STREAM_DEMUXERS: Final = f"{LOCAL_FILE_DEMUXERS},hls"
# ffmpeg otherwise buffers up to 5 MB to probe a radio stream: minutes of silence before the first
# sample. 64 kB identifies any audio codec a web radio sends.
HTTP_INPUT_OPTIONS: Final = ("-probesize", "65536", "-format_whitelist", HTTP_STREAM_DEMUXERS)
LOCAL_FILE_INPUT_OPTIONS: Final = (
    "-protocol_whitelist",
    "file",
    "-format_whitelist",
    LOCAL_FILE_DEMUXERS,
)
# URL options that make ffmpeg accept connections instead of making one (tcp://…?listen=1,
# srt://…?mode=listener): the analyser reads streams, it never serves.
_LISTEN_QUERY_KEYS: Final = frozenset({"listen", "listen_timeout"})
_SRT_SERVER_MODES: Final = frozenset({"listener", "rendezvous", "server"})
ATTR_MEDIA_CONTENT_ID: Final = "media_content_id"
MAX_SOURCE_CHARS: Final = 4096
# Sources quoted in messages and attributes are cut to this length (attributes are recorded).
_SHOWN_CHARS: Final = 300
_NAME_MAX: Final = 255
_PATH_MAX: Final = 4096

# Reasons (also config-flow error keys and status details).
REASON_INVALID_SOURCE: Final = "invalid_source"
REASON_PATH_NOT_ALLOWED: Final = "path_not_allowed"
REASON_FILE_NOT_FOUND: Final = "file_not_found"
REASON_CANNOT_CONNECT: Final = "cannot_connect"
REASON_NO_STREAM_SOURCE: Final = "no_stream_source"
REASON_ENTITY_NOT_FOUND: Final = "entity_not_found"
REASON_WAITING_FOR_MEDIA: Final = "waiting_for_media"
REASON_UNSUPPORTED_MEDIA: Final = "unsupported_media"


class SourceError(Exception):
    """The source cannot deliver audio (now); ``reason`` is a translation key."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = redact_url(detail)


def _invalid(detail: str) -> SourceError:
    return SourceError(REASON_INVALID_SOURCE, detail)


def _shown(source: str) -> str:
    """A source as messages show it: redacted first (a cut could split a password), then short."""
    shown = redact_source(source)
    return shown if len(shown) <= _SHOWN_CHARS else shown[:_SHOWN_CHARS] + "…"


@dataclass(frozen=True, slots=True)
class FfmpegInput:
    """One validated ffmpeg input: what follows ``-i`` and the options that precede it."""

    source: str
    input_options: tuple[str, ...] = ()
    is_local_file: bool = False
    is_capture_device: bool = False

    @property
    def redacted(self) -> str:
        return redact_source(self.source)

    def command(
        self,
        ffmpeg_binary: str,
        sample_rate: int,
        *,
        live: bool,
        loop: bool = False,
        frame_samples: int | None = None,
    ) -> list[str]:
        """ffmpeg arguments; ``frame_samples`` groups the decoded audio into frames of that size
        (see ``hop_grouping_options``)."""
        # Local files are paced at native speed when live, so they behave like a stream.
        paced = live and self.is_local_file
        command = ffmpeg_pcm_command(
            self.source,
            sample_rate,
            ffmpeg_binary=ffmpeg_binary,
            realtime=paced,
            loop=paced and loop,
            input_options=self.input_options,
        )
        if frame_samples:
            # Output options go before the output, which ffmpeg_pcm_command puts last.
            command[-1:-1] = hop_grouping_options(sample_rate, frame_samples)
        return command


def _checked_local_file(hass: HomeAssistant, path: str) -> FfmpegInput:
    """Blocking (filesystem): an absolute path of a file inside HA's allow-listed directories."""
    if not os.path.isabs(path):
        raise _relative_path(path)
    if _name_too_long(path):
        raise _invalid(f"{path[:80]!r}… is longer than file names may be")
    try:
        allowed = hass.config.is_allowed_path(path)
        is_file = allowed and os.path.isfile(path)
    except OSError as error:  # Python 3.13's Path.exists() raises for a name the OS refuses
        raise _invalid(f"cannot check {path[:80]!r}…: {error.strerror or error}") from error
    if not allowed:
        raise SourceError(REASON_PATH_NOT_ALLOWED, path)
    if not is_file:
        raise SourceError(REASON_FILE_NOT_FOUND, path)
    # "file:" keeps ffmpeg from reading any other protocol prefix out of a file name.
    return FfmpegInput(f"file:{path}", input_options=LOCAL_FILE_INPUT_OPTIONS, is_local_file=True)


def _name_too_long(path: str) -> bool:
    """Longer than Linux allows (255 bytes a name, 4096 a path): no such file can exist."""
    encoded = os.fsencode(path)
    return len(encoded) >= _PATH_MAX or any(len(name) > _NAME_MAX for name in encoded.split(b"/"))


def _relative_path(path: str) -> SourceError:
    return _invalid(
        f"{_shown(path)!r} is a relative path: a local file needs an absolute path "
        "(e.g. /media/music/track.ogg), because a relative one would depend on Home "
        "Assistant's working directory and could not be checked against allowlist_external_dirs"
    )


def _is_local_file(source: str) -> bool:
    return source.startswith("/") or source[:5].lower() == "file:"


def _split(source: str) -> SplitResult:
    try:
        return urlsplit(source)
    except ValueError as error:  # e.g. an unclosed IPv6 bracket
        raise _invalid(f"{_shown(source)!r} is not a valid URL ({error})") from error


def _local_file(hass: HomeAssistant, source: str) -> FfmpegInput:
    if source.startswith("/"):
        return _checked_local_file(hass, source)
    return _checked_local_file(hass, unquote(_split(source).path))


def _network_input(source: str) -> FfmpegInput:
    if urlsplit(source).scheme.lower() in ("http", "https"):
        return FfmpegInput(source, input_options=HTTP_INPUT_OPTIONS)
    return FfmpegInput(source)


def _refuse_server_modes(source: str, scheme: str) -> None:
    for raw_key, value in parse_qsl(urlsplit(source).query, keep_blank_values=True):
        key = raw_key.strip().lower()
        if key in _LISTEN_QUERY_KEYS or (
            scheme == "srt" and key == "mode" and value.strip().lower() in _SRT_SERVER_MODES
        ):
            raise _invalid(
                f"{_shown(source)!r} asks ffmpeg to accept connections ({key}=); the "
                "analyser only connects to streams"
            )


def _checked_source_text(source: str) -> str:
    source = source.strip()
    if len(source) > MAX_SOURCE_CHARS:
        # ffmpeg truncates URLs at 4096 bytes anyway; a longer id is not something to open.
        raise _invalid(f"the source is {len(source)} characters long (at most {MAX_SOURCE_CHARS})")
    try:
        validate_source(source)
    except UnsafeSourceError as error:
        raise _invalid(str(error)) from error
    return source


def parse_ffmpeg_input(hass: HomeAssistant, source: str) -> FfmpegInput:
    """Blocking (filesystem): classify and validate an ffmpeg source an administrator typed.

    Accepted: network URLs (http(s), rtsp, ...) without listen/server modes, absolute paths or
    file: URLs of allow-listed local files, and capture devices written ``pulse:<device>`` or
    ``alsa:<device>`` whose device name matches the capture grammar.
    """
    source = _checked_source_text(source)
    if _is_local_file(source):
        return _local_file(hass, source)
    driver, separator, device = source.partition(":")
    driver = driver.lower()
    if separator and driver in CAPTURE_DRIVERS and not device.startswith("//"):
        try:
            device = validate_capture_device(driver, device)
        except CaptureDeviceError as error:
            raise _invalid(str(error)) from error
        return FfmpegInput(device, input_options=("-f", driver), is_capture_device=True)
    parts = _split(source)
    scheme = parts.scheme.lower()
    if scheme in NETWORK_SCHEMES and parts.netloc:
        _refuse_server_modes(source, scheme)
        return _network_input(source)
    if not scheme:
        raise _relative_path(source)
    raise _invalid(
        f"{_shown(source)!r} is not a stream URL, an absolute file path or a capture device"
    )


def parse_device_supplied_input(
    hass: HomeAssistant, source: str, *, allow_local_files: bool
) -> FfmpegInput:
    """Blocking (filesystem): validate a source that another integration or a device supplied.

    Only http, https, rtsp and rtsps URLs with a host (and, when ``allow_local_files``, allow-listed
    local files) are accepted: never a capture device, another protocol or a listening mode.
    """
    source = _checked_source_text(source)
    if allow_local_files and _is_local_file(source):
        return _local_file(hass, source)
    parts = _split(source)
    scheme = parts.scheme.lower()
    if scheme in DEVICE_SUPPLIED_SCHEMES and parts.hostname:
        return _network_input(source)
    accepted = "http(s) or rtsp(s) URLs" + (
        " and allow-listed local files" if allow_local_files else ""
    )
    # The caller names the source and who supplied it.
    raise _invalid(f"only {accepted} with a host are accepted from a device")


class AudioSource:
    """A configured source; ``async_resolve`` gives the ffmpeg input to use right now.

    ``settings`` is the entry's data (a group stream's port and codec); ``player_id`` and ``name``
    are what a Sendspin source registers its player as.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        source_type: str,
        source: str,
        *,
        settings: Mapping[str, Any] | None = None,
        player_id: str = "music-mood",
        name: str = "Music Mood",
    ) -> None:
        self._hass = hass
        self.source_type = source_type
        self.source = source.strip()
        self._settings = dict(settings or {})
        self._listeners: list[Callable[[], None]] = []
        self.sendspin: SendspinPlayer | None = None
        self._sendspin_error: str | None = None
        if source_type == SOURCE_TYPE_SENDSPIN:
            try:
                server = parse_server_url(self.source)
            except SendspinUrlError as error:  # stored data edited by hand: said at each attempt
                self._sendspin_error = str(error)
            else:
                self.sendspin = SendspinPlayer(
                    async_get_clientsession(hass),
                    server,
                    client_id=player_id,
                    name=name,
                    on_change=self._changed,
                )
        # A FIFO or a UDP port, kept open between streams (raw_pcm_input builds on this module).
        self.raw_pcm: RawPcmInput | None = None
        if source_type in (SOURCE_TYPE_RAW_PCM_PIPE, SOURCE_TYPE_RAW_PCM_UDP):
            from .raw_pcm_input import RawPcmInput  # noqa: PLC0415

            self.raw_pcm = RawPcmInput(hass, source_type, self.source, self._settings)

    @property
    def redacted(self) -> str:
        return redact_source(self.source)

    async def async_resolve(self) -> FfmpegInput:
        if self.source_type == SOURCE_TYPE_CAMERA:
            return await self._async_resolve_camera()
        if self.source_type == SOURCE_TYPE_MEDIA_PLAYER:
            return await self._async_resolve_media_player()
        if self.source_type == SOURCE_TYPE_MUSIC_ASSISTANT_GROUP:
            return await self._async_resolve_group_stream()
        if self.source_type == SOURCE_TYPE_SENDSPIN:
            raise SourceError(REASON_INVALID_SOURCE, "a Sendspin player is not an ffmpeg input")
        if self.raw_pcm is not None:
            raise SourceError(REASON_INVALID_SOURCE, "a raw-PCM source is not an ffmpeg input")
        return await self._hass.async_add_executor_job(parse_ffmpeg_input, self._hass, self.source)

    async def async_resolve_sendspin(self, sample_rate: int) -> PcmSource:
        """The stream Music Assistant plays to the Sendspin player now (SourceUnavailableError)."""
        if self.sendspin is None:
            raise SourceUnavailableError(
                "source_error", f"{REASON_INVALID_SOURCE}: {self._sendspin_error}"
            )
        return await self.sendspin.async_resolve(
            sample_rate,
            partial(
                self._hass.async_create_background_task, name=f"music_mood sendspin {self.source}"
            ),
        )

    def seconds_until_heard(self, end_sample: int) -> float | None:
        """How long until the audio up to ``end_sample`` of the current stream is heard (negative
        once it was); None when the source cannot tell (only a Sendspin stream has play times)."""
        if self.sendspin is None:
            return None
        return self.sendspin.seconds_until_heard(end_sample)

    async def async_close(self) -> None:
        """Disconnect what the source keeps open between streams (a Sendspin player)."""
        if self.sendspin is not None:
            await self.sendspin.async_stop()
        if self.raw_pcm is not None:
            self.raw_pcm.close()

    @callback
    def _changed(self) -> None:
        for listener in list(self._listeners):
            listener()

    @callback
    def async_track_changes(self, on_change: Callable[[], None]) -> Callable[[], None] | None:
        """Call ``on_change`` when what the source plays may have changed (players, a group, a
        Sendspin player's stream); None for sources that never change."""
        if self.source_type == SOURCE_TYPE_SENDSPIN:
            self._listeners.append(on_change)
            return partial(self._listeners.remove, on_change)
        if self.raw_pcm is not None:  # a waiting FIFO or port heard its first bytes
            return self.raw_pcm.track_audio(on_change)
        if self.source_type not in (SOURCE_TYPE_MEDIA_PLAYER, SOURCE_TYPE_MUSIC_ASSISTANT_GROUP):
            return None
        follows = _playing_media if self.source_type == SOURCE_TYPE_MEDIA_PLAYER else _playing_group

        @callback
        def _state_changed(event: Event[EventStateChangedData]) -> None:
            old, new = event.data["old_state"], event.data["new_state"]
            if follows(old) != follows(new):
                on_change()

        return async_track_state_change_event(self._hass, [self.source], _state_changed)

    def _group_stream_settings(self) -> GroupStreamSettings:
        from .music_assistant_group import (  # noqa: PLC0415 (it builds on this module)
            DEFAULT_STREAM_PORT,
            STREAM_CODECS,
            GroupStreamSettings,
            host_of_server_url,
        )

        typed_url = str(self._settings.get(CONF_MUSIC_ASSISTANT_URL) or "")
        try:
            host = host_of_server_url(typed_url) if typed_url else None
        except ValueError as error:
            raise SourceError(REASON_INVALID_SOURCE, str(error)) from error
        return GroupStreamSettings(
            server_host=host,
            stream_port=int(self._settings.get(CONF_STREAM_PORT, DEFAULT_STREAM_PORT)),
            codec=str(self._settings.get(CONF_STREAM_CODEC, STREAM_CODECS[0])),
        )

    async def _async_resolve_group_stream(self) -> FfmpegInput:
        from .music_assistant_group import async_group_stream_input  # noqa: PLC0415

        return await async_group_stream_input(
            self._hass,
            async_get_clientsession(self._hass),
            self.source,
            self._group_stream_settings(),
        )

    async def _async_resolve_camera(self) -> FfmpegInput:
        if self._hass.states.get(self.source) is None:
            raise SourceError(REASON_ENTITY_NOT_FOUND, self.source)
        # Imported here: the camera component needs its own requirements, only camera users have
        # them.
        from homeassistant.components.camera import async_get_stream_source  # noqa: PLC0415

        try:
            stream_source = await async_get_stream_source(self._hass, self.source)
        except Exception as error:  # the camera's own integration failed: it is its error to tell
            raise SourceError(
                REASON_NO_STREAM_SOURCE, f"{self.source} gives no stream source ({error})"
            ) from error
        if not stream_source:
            raise SourceError(REASON_NO_STREAM_SOURCE, f"{self.source} has no stream source (yet)")
        try:
            return await self._hass.async_add_executor_job(
                partial(parse_device_supplied_input, allow_local_files=False),
                self._hass,
                stream_source,
            )
        except SourceError as error:
            raise SourceError(
                error.reason, f"{self.source} gives {_shown(stream_source)!r}: {error.detail}"
            ) from error

    async def _async_resolve_media_player(self) -> FfmpegInput:
        state = self._hass.states.get(self.source)
        if state is None:
            raise SourceError(REASON_ENTITY_NOT_FOUND, self.source)
        media = _playing_media(state)
        if media is None:
            raise SourceError(REASON_WAITING_FOR_MEDIA, f"{self.source} is {state.state}")
        try:
            return await self._hass.async_add_executor_job(
                partial(parse_device_supplied_input, allow_local_files=True), self._hass, media
            )
        except SourceError as error:
            raise SourceError(
                REASON_UNSUPPORTED_MEDIA,
                f"{self.source} plays {_shown(media)!r}, which cannot be followed: "
                + (error.detail if error.reason == REASON_INVALID_SOURCE else error.reason),
            ) from error


def _playing_group(state: object) -> tuple[str, object] | None:
    """What decides a group stream: the player's state and its active queue."""
    if state is None:
        return None
    return getattr(state, "state", ""), getattr(state, "attributes", {}).get("active_queue")


def _playing_media(state: object) -> str | None:
    """The media_content_id of a playing media player state, else None."""
    if state is None or getattr(state, "state", None) != STATE_PLAYING:
        return None
    content_id = getattr(state, "attributes", {}).get(ATTR_MEDIA_CONTENT_ID)
    return content_id if isinstance(content_id, str) and content_id else None


async def async_probe(
    ffmpeg_input: FfmpegInput, ffmpeg_binary: str, sample_rate: int, timeout_s: float
) -> None:
    """Open the input with ffmpeg and wait for a quarter second of audio; SourceError otherwise."""
    command = ffmpeg_input.command(ffmpeg_binary, sample_rate, live=False)
    process = FfmpegPcmProcess(command)
    try:
        await process.start()
        await process.read_exactly(BYTES_PER_SAMPLE * (sample_rate // 4), timeout_s)
    except (FfmpegStartError, FfmpegEndedError, FfmpegStalledError) as error:
        raise SourceError(REASON_CANNOT_CONNECT, str(error)) from error
    finally:
        await process.close()
