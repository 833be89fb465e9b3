"""What every raw-PCM byte source (FIFO or pipe file, UDP port) offers the decoder."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class RawPcmSourceError(OSError):
    """The raw-PCM source cannot be opened as configured; the message says why and what works."""


class PcmByteSource(Protocol):
    """Raw PCM bytes in the declared format, read asynchronously.

    ``read`` waits for at least one byte and returns ``b""`` at the end of the stream (a FIFO's
    writer closed it, a regular file ended). ``received_bytes`` counts what arrived since ``open``,
    so a source that stays silent can be told from one whose audio stopped.
    """

    @property
    def description(self) -> str:
        """The source as messages name it (a path or a local address, never a secret)."""
        ...

    @property
    def received_bytes(self) -> int: ...

    @property
    def is_live(self) -> bool:
        """True when audio arrives at the pace it plays (a FIFO, UDP), so it needs no pacing."""
        ...

    async def open(self) -> None: ...

    async def read(self, max_bytes: int) -> bytes: ...

    def notify_on_arrival(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` once, when bytes are there to read while nobody reads; returns the
        cancel function. Nothing happens while the source is closed."""
        ...

    def close(self) -> None: ...
