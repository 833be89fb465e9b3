"""An analyser fed raw PCM: a FIFO or pipe file a player writes, or a local UDP port it sends to.

Both are typed by the administrator in the analyser's flow, never taken from what a device or
another integration supplies (a listener opened on a device's word would let the device pick a
port; a path from a device could name any file). A path must lie inside allowlist_external_dirs and
be a FIFO or a regular file, checked again at every (re)start; a UDP address must be a literal local
IP address and an unprivileged port. The declared format is checked against the core's grammar.

The FIFO or the socket is kept open for the analyser's lifetime (see music_mood_core.raw_pcm_stream)
and given up when the analyser stops.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Mapping
from typing import Any, Final

from homeassistant.core import HomeAssistant

from .audio_source import (
    REASON_FILE_NOT_FOUND,
    REASON_INVALID_SOURCE,
    REASON_PATH_NOT_ALLOWED,
    SourceError,
)
from .const import (
    CONF_PCM_CHANNELS,
    CONF_PCM_SAMPLE_FORMAT,
    CONF_PCM_SAMPLE_RATE,
    SOURCE_TYPE_RAW_PCM_PIPE,
    SOURCE_TYPE_RAW_PCM_UDP,
)
from .music_mood_core.pcm_source import SourceUnavailableError
from .music_mood_core.raw_pcm_fifo import FifoPcmReader
from .music_mood_core.raw_pcm_format import RawPcmFormat, RawPcmFormatError
from .music_mood_core.raw_pcm_source import PcmByteSource
from .music_mood_core.raw_pcm_stream import SOURCE_ERROR, RawPcmSource
from .music_mood_core.raw_pcm_udp import (
    UdpEndpointError,
    UdpPcmReceiver,
    validate_udp_endpoint,
)

RAW_PCM_SOURCE_TYPES: Final = frozenset({SOURCE_TYPE_RAW_PCM_PIPE, SOURCE_TYPE_RAW_PCM_UDP})
REASON_INVALID_PCM_FORMAT: Final = "invalid_pcm_format"
REASON_CANNOT_LISTEN: Final = "cannot_listen"


def _whole(value: object) -> object:
    """A form's number box gives 48000.0 and its select "2": whole numbers become ints."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return value


def pcm_format_of(data: Mapping[str, Any]) -> RawPcmFormat:
    """The declared format in an entry's data or a form's input; SourceError if it is not valid."""
    try:
        return RawPcmFormat.declared(
            _whole(data.get(CONF_PCM_SAMPLE_RATE)),
            _whole(data.get(CONF_PCM_CHANNELS)),
            data.get(CONF_PCM_SAMPLE_FORMAT),
        )
    except RawPcmFormatError as error:
        raise SourceError(REASON_INVALID_PCM_FORMAT, str(error)) from error


def listen_address(source: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[IPv6]:PORT``) of a UDP source, checked by the core's endpoint grammar."""
    text = source.strip()
    host, separator, port = text.rpartition(":")
    if not separator or not port.isdigit():
        raise SourceError(
            REASON_INVALID_SOURCE,
            f"{text[:60]!r} is not ADDRESS:PORT, e.g. 127.0.0.1:5004 (this machine only) or "
            "0.0.0.0:5004 (any interface)",
        )
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        return validate_udp_endpoint(host, int(port))
    except UdpEndpointError as error:
        raise SourceError(REASON_INVALID_SOURCE, str(error)) from error


def check_pipe_path(hass: HomeAssistant, path: str) -> str:
    """Blocking (filesystem): an absolute, allow-listed path of a FIFO or a regular file."""
    path = path.strip()
    if not os.path.isabs(path) or "\x00" in path:
        raise SourceError(
            REASON_INVALID_SOURCE,
            f"{path[:80]!r} is not an absolute path (e.g. /media/snapcast/snapfifo)",
        )
    try:
        allowed = hass.config.is_allowed_path(path)
        mode = os.stat(path).st_mode if allowed else None
    except FileNotFoundError:
        raise SourceError(REASON_FILE_NOT_FOUND, path) from None
    except OSError as error:
        raise SourceError(REASON_INVALID_SOURCE, f"cannot check {path[:80]!r}: {error}") from error
    if not allowed:
        raise SourceError(REASON_PATH_NOT_ALLOWED, path)
    if mode is None or not (stat.S_ISFIFO(mode) or stat.S_ISREG(mode)):
        raise SourceError(
            REASON_INVALID_SOURCE, f"{path} is neither a FIFO (mkfifo) nor a regular file"
        )
    return path


class RawPcmInput:
    """A configured raw-PCM source: checked at each resolve, kept open between streams."""

    def __init__(
        self, hass: HomeAssistant, source_type: str, source: str, data: Mapping[str, Any]
    ) -> None:
        self._hass = hass
        self.source_type = source_type
        self.source = source.strip()
        self._data = dict(data)
        self._pcm_source: RawPcmSource | None = None
        self._on_audio: Callable[[], None] | None = None

    async def async_resolve(self, ffmpeg_binary: str) -> RawPcmSource:
        """The source to stream from now; SourceUnavailableError("source_error") if unusable."""
        try:
            if self._pcm_source is None:
                self._pcm_source = self._build(ffmpeg_binary)
            if self.source_type == SOURCE_TYPE_RAW_PCM_PIPE:
                # The allow-list or the file may have changed since the flow checked them.
                await self._hass.async_add_executor_job(check_pipe_path, self._hass, self.source)
        except SourceError as error:
            detail = f"{error.reason}: {error.detail}" if error.detail else error.reason
            raise SourceUnavailableError(SOURCE_ERROR, detail) from error
        await self._pcm_source.async_open()
        return self._pcm_source

    def _build(self, ffmpeg_binary: str) -> RawPcmSource:
        pcm_format = pcm_format_of(self._data)
        byte_source: PcmByteSource
        if self.source_type == SOURCE_TYPE_RAW_PCM_UDP:
            host, port = listen_address(self.source)
            byte_source = UdpPcmReceiver(host, port, pcm_format)
        else:
            byte_source = FifoPcmReader(self.source, pcm_format.frame_bytes)
        return RawPcmSource(
            byte_source, pcm_format, ffmpeg_binary=ffmpeg_binary, on_audio=self._audio_arrived
        )

    def track_audio(self, on_audio: Callable[[], None]) -> Callable[[], None]:
        """Call ``on_audio`` when a source that was waiting hears its first bytes."""
        self._on_audio = on_audio

        def cancel() -> None:
            self._on_audio = None

        return cancel

    def _audio_arrived(self) -> None:
        if self._on_audio is not None:
            self._on_audio()

    def close(self) -> None:
        """Give the FIFO or the port up (the analyser stops)."""
        source, self._pcm_source = self._pcm_source, None
        if source is not None:
            source.close()
