"""Where an analyser's audio comes from: an ffmpeg input, a camera stream, a media player's media.

Each kind resolves, when the pipeline (re)starts, to one ffmpeg input. Anything that cannot be used
yet or at all raises SourceError with a reason that is also a translation key.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final
from urllib.parse import unquote, urlsplit

from homeassistant.const import STATE_PLAYING
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers.event import async_track_state_change_event

from .const import (
    CAPTURE_DRIVERS,
    SOURCE_TYPE_CAMERA,
    SOURCE_TYPE_FFMPEG,
    SOURCE_TYPE_MEDIA_PLAYER,
)
from .music_mood_core.audio import (
    BYTES_PER_SAMPLE,
    UnsafeSourceError,
    ffmpeg_pcm_command,
    redact_url,
    validate_source,
)
from .music_mood_core.ffmpeg_process import (
    FfmpegEndedError,
    FfmpegPcmProcess,
    FfmpegStalledError,
    FfmpegStartError,
)

NETWORK_SCHEMES: Final = frozenset(
    {"http", "https", "rtsp", "rtsps", "rtmp", "rtmps", "rtp", "srt", "udp", "tcp", "mms", "mmsh"}
)
HTTP_INPUT_OPTIONS: Final = ("-probesize", "65536")
ATTR_MEDIA_CONTENT_ID: Final = "media_content_id"

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


@dataclass(frozen=True, slots=True)
class FfmpegInput:
    """One validated ffmpeg input: what follows ``-i`` and the options that precede it."""

    source: str
    input_options: tuple[str, ...] = ()
    is_local_file: bool = False
    is_capture_device: bool = False

    @property
    def redacted(self) -> str:
        return redact_url(self.source)

    def command(
        self,
        ffmpeg_binary: str,
        sample_rate: int,
        *,
        live: bool,
        loop: bool = False,
        frame_samples: int | None = None,
    ) -> list[str]:
        """ffmpeg arguments; ``frame_samples`` groups the decoded audio into frames of that size.

        Grouping only regroups samples (values are untouched), but it makes ffmpeg write a few large
        pieces per hop instead of dozens of small ones: each piece costs the event loop a wake-up.
        """
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
            command[-1:-1] = ["-af", f"asetnsamples=n={int(frame_samples)}:p=0"]
        return command


def _checked_local_file(hass: HomeAssistant, path: str) -> FfmpegInput:
    """Blocking (filesystem): an absolute path of a file inside HA's allow-listed directories."""
    if not os.path.isabs(path):
        raise SourceError(REASON_INVALID_SOURCE, "a local file needs an absolute path")
    if not hass.config.is_allowed_path(path):
        raise SourceError(REASON_PATH_NOT_ALLOWED, path)
    if not os.path.isfile(path):
        raise SourceError(REASON_FILE_NOT_FOUND, path)
    # "file:" keeps ffmpeg from reading any other protocol prefix out of a file name.
    return FfmpegInput(f"file:{path}", is_local_file=True)


def parse_ffmpeg_input(hass: HomeAssistant, source: str) -> FfmpegInput:
    """Blocking (filesystem): classify and validate a user-given ffmpeg source.

    Accepted: network URLs (http(s), rtsp, ...), absolute paths or file: URLs of allow-listed local
    files, and capture devices written ``pulse:<device>`` or ``alsa:<device>``.
    """
    source = source.strip()
    try:
        validate_source(source)
    except UnsafeSourceError as error:
        raise SourceError(REASON_INVALID_SOURCE, str(error)) from error
    if source.startswith("/"):
        return _checked_local_file(hass, source)
    driver, separator, device = source.partition(":")
    if separator and driver.lower() in CAPTURE_DRIVERS and not device.startswith("//"):
        if not device or device.startswith("-"):
            raise SourceError(REASON_INVALID_SOURCE, "a capture device needs a device name")
        return FfmpegInput(device, input_options=("-f", driver.lower()), is_capture_device=True)
    parts = urlsplit(source)
    scheme = parts.scheme.lower()
    if scheme == "file":
        return _checked_local_file(hass, unquote(parts.path))
    if scheme in NETWORK_SCHEMES and parts.netloc:
        if scheme in ("http", "https"):
            # ffmpeg otherwise buffers up to 5 MB to probe a radio stream: minutes of silence
            # before the first sample. 64 kB identifies any audio codec a web radio sends.
            return FfmpegInput(source, input_options=HTTP_INPUT_OPTIONS)
        return FfmpegInput(source)
    raise SourceError(REASON_INVALID_SOURCE, redact_url(source))


def source_unique_id(source_type: str, source: str) -> str:
    """Stable id of a source: the same stream with another password is still a duplicate."""
    normalised = source.strip()
    if source_type == SOURCE_TYPE_FFMPEG:
        parts = urlsplit(normalised)
        if parts.scheme and parts.netloc:
            normalised = redact_url(parts._replace(scheme=parts.scheme.lower()).geturl())
    else:
        normalised = normalised.lower()
    return f"{source_type}:{normalised}"


class AudioSource:
    """A configured source; ``async_resolve`` gives the ffmpeg input to use right now."""

    def __init__(self, hass: HomeAssistant, source_type: str, source: str) -> None:
        self._hass = hass
        self.source_type = source_type
        self.source = source.strip()

    @property
    def redacted(self) -> str:
        return redact_url(self.source)

    async def async_resolve(self) -> FfmpegInput:
        if self.source_type == SOURCE_TYPE_CAMERA:
            return await self._async_resolve_camera()
        if self.source_type == SOURCE_TYPE_MEDIA_PLAYER:
            return await self._async_resolve_media_player()
        return await self._hass.async_add_executor_job(parse_ffmpeg_input, self._hass, self.source)

    @callback
    def async_track_changes(self, on_change: Callable[[], None]) -> Callable[[], None] | None:
        """Call ``on_change`` when what the source plays may have changed (media players only)."""
        if self.source_type != SOURCE_TYPE_MEDIA_PLAYER:
            return None

        @callback
        def _state_changed(event: Event[EventStateChangedData]) -> None:
            old, new = event.data["old_state"], event.data["new_state"]
            if _playing_media(old) != _playing_media(new):
                on_change()

        return async_track_state_change_event(self._hass, [self.source], _state_changed)

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
        return await self._async_parse(stream_source)

    async def _async_resolve_media_player(self) -> FfmpegInput:
        state = self._hass.states.get(self.source)
        if state is None:
            raise SourceError(REASON_ENTITY_NOT_FOUND, self.source)
        media = _playing_media(state)
        if media is None:
            raise SourceError(REASON_WAITING_FOR_MEDIA, f"{self.source} is {state.state}")
        try:
            return await self._async_parse(media)
        except SourceError as error:
            raise SourceError(
                REASON_UNSUPPORTED_MEDIA,
                f"{self.source} plays {redact_url(media)!r}, which ffmpeg cannot open "
                f"({error.reason}); only http(s)/rtsp URLs and allow-listed local files "
                "can be followed",
            ) from error

    async def _async_parse(self, source: str) -> FfmpegInput:
        return await self._hass.async_add_executor_job(parse_ffmpeg_input, self._hass, source)


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
