"""Reading raw PCM from a FIFO (named pipe) or a regular file that a player writes.

Snapcast's ``snapclient --player file``, shairport-sync's pipe backend, librespot's and
squeezelite's pipe outputs write PCM into a FIFO. A blocking ``open()`` of a FIFO waits until a
writer appears, and a blocking read waits for data: either would freeze whoever waits. So the FIFO
is opened with ``O_NONBLOCK`` (which succeeds at once with or without a writer) and read when the
event loop says it is readable. With no writer yet, Linux reports it neither readable nor hung up,
so ``read`` just waits: the caller's stall timeout then means "waiting for audio", never a hang.

When the writer closes its end (the player stopped or restarts), the FIFO reports a hang-up and a
read returns nothing: that is the end of this stream; the caller reopens, and a new open only sees
a hang-up after a new writer came and went.

The caller checks the path against the allow-listed folders first; here the opened file itself must
be a FIFO or a regular file (checked on the descriptor, so a file swapped after the check cannot
slip through as a device or a directory). A regular file is read in an executor thread (the event
loop cannot wait on one) and ends at its end.

Reads return whole frames only (every channel's sample), keeping a split frame's first bytes for
the next read: a reader outlives the decoders that use it, and a decoder that stops after a read
must leave the next one starting on a frame boundary, not inside a sample.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat
from collections.abc import Callable
from typing import Final

from .raw_pcm_source import RawPcmSourceError

# One read takes at most this much: a FIFO holds 64 kB anyway, and a regular file is read in
# pieces so back-pressure from the decoder keeps memory bounded.
_READ_BYTES_MAX: Final = 65536
_OPEN_FLAGS: Final = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a plain file"


class FifoPcmReader:
    """A FIFO or regular file, open from ``open`` to ``close``; reopen after its end."""

    def __init__(self, path: str, frame_bytes: int = 1) -> None:
        if not os.path.isabs(path) or "\x00" in path:
            raise RawPcmSourceError(f"a raw-PCM pipe needs an absolute path (got {path[:80]!r})")
        if frame_bytes <= 0:
            raise ValueError(f"frame_bytes must be positive (got {frame_bytes})")
        self._path = path
        self._frame_bytes = frame_bytes
        self._partial = b""
        self._fd: int | None = None
        self._is_fifo = False
        self._received = 0

    @property
    def description(self) -> str:
        return self._path

    @property
    def received_bytes(self) -> int:
        return self._received

    @property
    def is_live(self) -> bool:
        """True for a FIFO (it arrives at the writer's pace), False for a regular file (known once
        open; a regular file is read as fast as the reader is paced)."""
        return self._is_fifo

    async def open(self) -> None:
        """Open without waiting for a writer; RawPcmSourceError for a missing or unsuitable file."""
        if self._fd is not None:
            return
        try:
            fd = os.open(self._path, _OPEN_FLAGS)
        except FileNotFoundError as error:
            raise RawPcmSourceError(
                f"{self._path} does not exist: create the FIFO (mkfifo {self._path}) or let the "
                "player create it"
            ) from error
        except OSError as error:
            # A socket cannot be opened at all (ENXIO): say what it is rather than errno's words.
            # (RawPcmSourceError is an OSError, so it is raised outside the suppress.)
            mode = None
            with contextlib.suppress(OSError):
                mode = os.stat(self._path).st_mode
            if mode is not None:
                self._refuse_unless_fifo_or_file(mode)
            raise RawPcmSourceError(
                f"cannot open {self._path}: {error.strerror or error}"
            ) from error
        try:
            self._refuse_unless_fifo_or_file(os.fstat(fd).st_mode)
        except RawPcmSourceError:
            os.close(fd)
            raise
        mode = os.fstat(fd).st_mode
        self._fd = fd
        self._is_fifo = stat.S_ISFIFO(mode)
        self._received = 0
        self._partial = b""

    def _refuse_unless_fifo_or_file(self, mode: int) -> None:
        if not (stat.S_ISFIFO(mode) or stat.S_ISREG(mode)):
            raise RawPcmSourceError(
                f"{self._path} is {_kind(mode)}: a raw-PCM source must be a FIFO or a regular file"
            )

    async def read(self, max_bytes: int) -> bytes:
        """Whole frames once there are some; ``b""`` when the writer closed or the file ended."""
        fd = self._fd
        if fd is None:
            raise RawPcmSourceError(f"{self._path} is not open")
        size = max(self._frame_bytes, min(max_bytes, _READ_BYTES_MAX))
        while True:
            if not self._is_fifo:
                data = await asyncio.get_running_loop().run_in_executor(None, os.read, fd, size)
            else:
                data = await self._read_fifo(fd, size)
            if not data:
                return b""  # a split frame left at the end is not audio
            self._received += len(data)
            data = self._partial + data
            whole = len(data) - len(data) % self._frame_bytes
            self._partial = data[whole:]
            if whole:
                return data[:whole]

    def notify_on_arrival(self, callback: Callable[[], None]) -> Callable[[], None]:
        """``callback`` once the FIFO is readable (a writer wrote, or came and went)."""
        fd = self._fd
        if fd is None or not self._is_fifo:
            return _nothing
        loop = asyncio.get_running_loop()

        def fire() -> None:
            loop.remove_reader(fd)
            callback()

        def cancel() -> None:
            if self._fd == fd:  # a closed descriptor's number may already be someone else's
                loop.remove_reader(fd)

        loop.add_reader(fd, fire)
        return cancel

    @staticmethod
    async def _read_fifo(fd: int, size: int) -> bytes:
        loop = asyncio.get_running_loop()
        while True:
            # Waiting first matters: with no writer yet a read would return b"" (like an end).
            # The watch lasts only for the wait: readiness is level-triggered, and a FIFO left
            # full while the decoder catches up would otherwise wake the loop without end.
            readable: asyncio.Future[None] = loop.create_future()
            loop.add_reader(fd, _settle, readable)
            try:
                await readable
            finally:
                loop.remove_reader(fd)
            try:
                return os.read(fd, size)
            except BlockingIOError:
                continue  # woken without data: wait again

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)


def _nothing() -> None:
    return None


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
