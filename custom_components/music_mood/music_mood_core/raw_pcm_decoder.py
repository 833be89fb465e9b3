"""Raw PCM in a declared format -> the model's mono int16 at the model's rate, through ffmpeg.

Why ffmpeg and not numpy: training decodes every file with ffmpeg's resampler (libswresample) and
channel mixing (music_mood_core.audio), so the same ffmpeg turning a FIFO's 48 kHz stereo into
22.05 kHz mono gives the samples the model was trained on, bit for bit the samples a WAV file of the
same bytes decodes to (the tests check that). A numpy resampler would need a filter of its own and
differ from training in every resampled sample. The cost is the one ffmpeg process every other
source type also runs.

The bytes come from a PcmByteSource (FIFO, pipe file, UDP port) read here and written into ffmpeg's
stdin, with the raw demuxer named explicitly (no probing) and only the ``pipe`` protocol allowed.
Back-pressure runs end to end: a reader that falls behind pauses ffmpeg's output, ffmpeg stops
reading its stdin, the feeder waits, and the FIFO's writer blocks (a UDP sender's datagrams are
dropped, oldest first, by the receiver's bounded buffer).

A decoder may leave its source open when it stops (``owns_source=False``): a FIFO writer whose
reader closes the FIFO dies of SIGPIPE (snapclient's file player does), so an analyser that
restarts its decoder (a model reload, a stall) keeps the FIFO open and reopens it only after its
writer closed it (``source_ended``).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Final

from .audio import ffmpeg_pcm_command, hop_grouping_options
from .ffmpeg_process import (
    DEFAULT_MAX_BUFFERED_BYTES,
    FfmpegEndedError,
    FfmpegPcmProcess,
    FfmpegStalledError,
)
from .raw_pcm_format import RawPcmFormat
from .raw_pcm_source import PcmByteSource

_FEED_BYTES: Final = 16384
_STDIN_SOURCE: Final = "pipe:0"


class RawPcmWaitingError(FfmpegStalledError):
    """Nothing at all arrived from the source yet: waiting for audio (no writer, no sender)."""


def raw_pcm_decoder_command(
    pcm_format: RawPcmFormat,
    sample_rate: int,
    *,
    ffmpeg_binary: str = "ffmpeg",
    frame_samples: int | None = None,
) -> list[str]:
    """ffmpeg arguments that read ``pcm_format`` from stdin and write model PCM to stdout."""
    command = ffmpeg_pcm_command(
        _STDIN_SOURCE,
        sample_rate,
        ffmpeg_binary=ffmpeg_binary,
        input_options=(
            "-protocol_whitelist",
            "pipe",
            "-format_whitelist",
            pcm_format.sample_format,
            *pcm_format.ffmpeg_input_options(),
        ),
    )
    if frame_samples:
        # Same grouping as the ffmpeg inputs of the other sources: a few writes per hop.
        command[-1:-1] = hop_grouping_options(sample_rate, frame_samples)
    return command


class RawPcmDecoder:
    """One ffmpeg decoding one open of a byte source; reads like FfmpegPcmProcess."""

    def __init__(
        self,
        source: PcmByteSource,
        pcm_format: RawPcmFormat,
        sample_rate: int,
        *,
        ffmpeg_binary: str = "ffmpeg",
        frame_samples: int | None = None,
        max_buffered_bytes: int = DEFAULT_MAX_BUFFERED_BYTES,
        owns_source: bool = True,
    ) -> None:
        self._source = source
        self._owns_source = owns_source
        self._process = FfmpegPcmProcess(
            raw_pcm_decoder_command(
                pcm_format, sample_rate, ffmpeg_binary=ffmpeg_binary, frame_samples=frame_samples
            ),
            max_buffered_bytes=max_buffered_bytes,
            input_pipe=True,
        )
        self._feeder: asyncio.Task[None] | None = None
        self._input_end: str | None = None
        self.source_ended = False

    @property
    def source(self) -> PcmByteSource:
        return self._source

    @property
    def pid(self) -> int | None:
        return self._process.pid

    @property
    def returncode(self) -> int | None:
        return self._process.returncode

    @property
    def peak_buffered_bytes(self) -> int:
        return self._process.peak_buffered_bytes

    @property
    def is_live(self) -> bool:
        return self._source.is_live

    def describe_failure(self) -> str:
        ffmpeg = self._process.describe_failure()
        return ffmpeg if self._input_end is None else f"{self._input_end}; ffmpeg: {ffmpeg}"

    async def start(self) -> None:
        """Open the source (RawPcmSourceError if it cannot be), start ffmpeg and the feeder."""
        await self._source.open()
        try:
            await self._process.start()
        except BaseException:
            if self._owns_source:
                self._source.close()
            raise
        self._feeder = asyncio.get_running_loop().create_task(self._feed())

    async def _feed(self) -> None:
        described = self._source.description
        try:
            while data := await self._source.read(_FEED_BYTES):
                await self._process.write_input(data)
            self.source_ended = True
            self._input_end = f"{described} ended (its writer closed it)"
        except FfmpegEndedError:
            return  # ffmpeg went away first: its reader reports why
        except OSError as error:
            self.source_ended = True
            self._input_end = f"reading {described} failed: {error.strerror or error}"
        finally:
            with contextlib.suppress(RuntimeError):
                self._process.close_input()

    async def read_exactly(self, n_bytes: int, timeout_s: float) -> bytes:
        """Model PCM; FfmpegEndedError at the source's end, RawPcmWaitingError while none came."""
        try:
            return await self._process.read_exactly(n_bytes, timeout_s)
        except FfmpegStalledError as error:
            raise self._stalled(error) from error
        except FfmpegEndedError as error:
            if self._input_end is None:
                raise
            raise FfmpegEndedError(self._input_end) from error

    async def read_chunk(self, max_bytes: int, timeout_s: float | None = None) -> bytes:
        """Up to ``max_bytes``; ``b""`` after the end (see FfmpegPcmProcess.read_chunk)."""
        try:
            return await self._process.read_chunk(max_bytes, timeout_s)
        except FfmpegStalledError as error:
            raise self._stalled(error) from error

    def _stalled(self, error: FfmpegStalledError) -> FfmpegStalledError:
        if self._source.received_bytes == 0:
            return RawPcmWaitingError(
                f"waiting for audio: nothing has arrived from {self._source.description} ({error})"
            )
        return error

    def interrupt(self) -> None:
        self._process.interrupt()

    async def close(self) -> None:
        """Stop feeding, end ffmpeg (always reaped), close the source if it is ours or ended.

        Safe to call twice.
        """
        feeder, self._feeder = self._feeder, None
        if feeder is not None:
            feeder.cancel()
            await asyncio.wait({feeder})  # unlike awaiting it, keeps our own cancellation
        try:
            await self._process.close()
        finally:
            if self._owns_source or self.source_ended:
                self._source.close()
