"""Where the stream loop's audio comes from: anything that yields int16 mono PCM at a given rate.

The stream loop (``stream_loop``) asks a `PcmSource` to open a `PcmStream` in the model's format
and reads it hop by hop. ffmpeg decoding a URL, file or capture device is one implementation
(`FfmpegPcmSource`); a source that already receives raw PCM implements the same two protocols.

What a stream reports back is plain Python exceptions, so any implementation can raise them:
``start`` raises ``OSError`` when it cannot start at all; ``read_exactly`` raises ``EOFError`` when
the stream ended and ``TimeoutError`` when no audio came for ``timeout_s`` (their ``str`` is shown
to users, so it must not quote credentials), and returns early with ``EOFError`` after
``interrupt``. A stream that learns its source cannot deliver yet (a FIFO nobody writes to) raises
``SourceUnavailableError`` from ``read_exactly``, as a resolver would.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from .ffmpeg_process import FfmpegPcmProcess


@dataclass(frozen=True, slots=True)
class PcmFormat:
    """What the stream loop reads: little-endian int16 mono samples at ``sample_rate``."""

    sample_rate: int
    # The loop reads one hop at a time; a source that frames its output may align to it.
    hop_samples: int
    # Unread PCM a stream may hold before it stops taking more input (back-pressure).
    max_buffered_bytes: int


class PcmStream(Protocol):
    """One open stream; closed by the loop whatever happened (``close`` never raises)."""

    @property
    def pid(self) -> int | None:
        """The child process decoding the audio, if there is one (diagnostics)."""

    @property
    def peak_buffered_bytes(self) -> int:
        """The most unread PCM the stream held so far (diagnostics; bounded by the format)."""

    async def start(self) -> None: ...

    async def read_exactly(self, n_bytes: int, timeout_s: float) -> bytes: ...

    def interrupt(self) -> None:
        """Make a pending or the next read end now (the source or the model changed)."""

    async def close(self) -> None: ...


class PcmSource(Protocol):
    """A resolved source, ready to open a stream in the format the model needs."""

    @property
    def real_time(self) -> bool:
        """True when audio cannot arrive faster than it plays (a capture device, a live feed)."""

    @property
    def knows_play_time(self) -> bool:
        """True when the stream says when each sample will be heard (a Sendspin stream's
        timestamps): a negative delay then advances readings against that play time."""

    def open(self, pcm_format: PcmFormat) -> PcmStream: ...


class SourceUnavailableError(Exception):
    """The source cannot deliver audio (now): ``kind`` is one of the stream loop's statuses.

    ``waiting_for_media`` and ``unsupported_media`` are conditions a user's player is in (no retry
    warning); ``source_error`` is an outage retried with back-off.
    """

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail


@dataclass(frozen=True, slots=True)
class FfmpegPcmSource:
    """ffmpeg decoding one validated input; ``command`` builds its argument list for a format."""

    command: Callable[[PcmFormat], Sequence[str]]
    real_time: bool = False
    # ffmpeg's output carries no play times.
    knows_play_time: bool = False

    def open(self, pcm_format: PcmFormat) -> PcmStream:
        return FfmpegPcmProcess(
            self.command(pcm_format), max_buffered_bytes=pcm_format.max_buffered_bytes
        )
