"""Raw PCM as the stream loop's source: one kept byte source, a fresh decoder per stream.

The byte source (FIFO, pipe file, UDP port) stays open across the loop's restarts (a model reload,
a stall): a FIFO writer that loses its reader dies of SIGPIPE, and a UDP port given up could be
taken. It is reopened only after its writer closed it. ``close`` gives it up for good.

A stream that hears nothing at all from its source (no writer has opened the FIFO, no datagram
came) is not an outage but a player not playing yet: it ends with SourceUnavailableError
("waiting_for_media"), and the source calls ``on_audio`` the moment the first bytes arrive, so the
loop restarts at once instead of after its back-off. The same holds after a writer closed the
FIFO: it is reopened at once and the next writer's first bytes restart the loop.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Final

from .ffmpeg_process import FfmpegStalledError
from .pcm_source import PcmFormat, PcmStream, SourceUnavailableError
from .raw_pcm_decoder import RawPcmDecoder
from .raw_pcm_format import RawPcmFormat
from .raw_pcm_source import PcmByteSource, RawPcmSourceError

# The stream loop's status for a player that is not playing (StreamStatus.WAITING_FOR_MEDIA).
WAITING_FOR_MEDIA: Final = "waiting_for_media"
SOURCE_ERROR: Final = "source_error"


class _RawPcmStream:
    """A RawPcmDecoder as a PcmStream: its errors are the protocol's, plus "waiting"."""

    def __init__(self, owner: RawPcmSource, decoder: RawPcmDecoder) -> None:
        self._owner = owner
        self._decoder = decoder
        self._heard_nothing = False

    @property
    def pid(self) -> int | None:
        return self._decoder.pid

    @property
    def peak_buffered_bytes(self) -> int:
        return self._decoder.peak_buffered_bytes

    async def start(self) -> None:
        await self._decoder.start()

    async def read_exactly(self, n_bytes: int, timeout_s: float) -> bytes:
        try:
            return await self._decoder.read_exactly(n_bytes, timeout_s)
        except FfmpegStalledError as error:
            if self._decoder.source.received_bytes:
                raise
            self._heard_nothing = True
            raise SourceUnavailableError(WAITING_FOR_MEDIA, str(error)) from error

    def interrupt(self) -> None:
        self._decoder.interrupt()

    async def close(self) -> None:
        await self._decoder.close()
        if self._decoder.source_ended:
            # The writer closed the FIFO (the player stopped or restarts): open it again now, so
            # the next writer's first bytes restart the loop at once, not after its back-off.
            with contextlib.suppress(SourceUnavailableError):
                await self._owner.async_open()
            self._owner.watch_for_audio()
        elif self._heard_nothing:
            # Only now: the decoder's own wait on the FIFO is over (one watch per descriptor).
            self._owner.watch_for_audio()


class RawPcmSource:
    """A PcmSource over one kept byte source in a declared format."""

    def __init__(
        self,
        byte_source: PcmByteSource,
        pcm_format: RawPcmFormat,
        *,
        ffmpeg_binary: str = "ffmpeg",
        on_audio: Callable[[], None] | None = None,
    ) -> None:
        self.byte_source = byte_source
        self.pcm_format = pcm_format
        self._ffmpeg_binary = ffmpeg_binary
        self.on_audio = on_audio
        self._cancel_watch: Callable[[], None] | None = None

    # Raw PCM carries no play times: a FIFO or UDP sender's audio is heard when someone plays it.
    knows_play_time = False

    @property
    def real_time(self) -> bool:
        # A regular file is not live: the loop paces it (known once open: see async_open).
        return self.byte_source.is_live

    def open(self, pcm_format: PcmFormat) -> PcmStream:
        self._stop_watching()
        decoder = RawPcmDecoder(
            self.byte_source,
            self.pcm_format,
            pcm_format.sample_rate,
            ffmpeg_binary=self._ffmpeg_binary,
            frame_samples=pcm_format.hop_samples,
            max_buffered_bytes=pcm_format.max_buffered_bytes,
            owns_source=False,
        )
        return _RawPcmStream(self, decoder)

    async def async_open(self) -> None:
        """Open the byte source if it is not (first use, or its writer closed it), so that
        ``real_time`` is known; SourceUnavailableError("source_error") if it cannot be opened."""
        try:
            await self.byte_source.open()
        except RawPcmSourceError as error:
            raise SourceUnavailableError(SOURCE_ERROR, str(error)) from error

    def watch_for_audio(self) -> None:
        """Call ``on_audio`` once when bytes arrive (only while the byte source is open)."""
        if self.on_audio is None or self._cancel_watch is not None:
            return
        self._cancel_watch = self.byte_source.notify_on_arrival(self._audio_arrived)

    def _audio_arrived(self) -> None:
        self._cancel_watch = None
        if self.on_audio is not None:
            self.on_audio()

    def _stop_watching(self) -> None:
        cancel, self._cancel_watch = self._cancel_watch, None
        if cancel is not None:
            cancel()

    def close(self) -> None:
        """Give the byte source up (the analyser stops)."""
        self._stop_watching()
        self.byte_source.close()
