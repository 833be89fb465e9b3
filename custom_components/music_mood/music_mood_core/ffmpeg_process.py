"""One ffmpeg child process decoding to PCM on stdout, read asynchronously, always reaped.

The process is started from an argument list (never a shell). ``close`` terminates, waits with a
timeout, kills if needed and waits again, so no zombie or orphan survives, even when the caller is
cancelled.

PCM arrives through a protocol that only wakes the reader once a whole request is buffered: ffmpeg
writes a live stream in dozens of small pieces a second, and waking a task for each one would cost
more CPU than the analysis itself.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Sequence
from typing import Final

from .audio import redact_url

_STDERR_LINES_KEPT: Final = 20
_STDOUT: Final = 1
_STDERR: Final = 2


class FfmpegStartError(OSError):
    """The ffmpeg executable could not be started."""


class FfmpegStalledError(TimeoutError):
    """ffmpeg produced no audio for longer than the stall timeout."""


class FfmpegEndedError(EOFError):
    """ffmpeg closed its output: the stream ended or the input failed."""


class _PcmProtocol(asyncio.SubprocessProtocol):
    """Buffers stdout, keeps stderr's last lines, signals exactly when the reader can proceed."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.buffer = bytearray()
        self.stdout_closed = False
        self.exited: asyncio.Future[None] = loop.create_future()
        self.stderr_tail: deque[str] = deque(maxlen=_STDERR_LINES_KEPT)
        self._stderr_partial = b""
        self._waiter: asyncio.Future[None] | None = None
        self._wanted = 0
        self.interrupted = False

    def interrupt(self) -> None:
        self.interrupted = True
        self._wake_if_ready()

    def wait_for(self, n_bytes: int) -> asyncio.Future[None]:
        loop = self.exited.get_loop()
        self._waiter = loop.create_future()
        self._wanted = n_bytes
        self._wake_if_ready()
        return self._waiter

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        if fd == _STDOUT:
            self.buffer += data
            self._wake_if_ready()
        elif fd == _STDERR:
            *lines, self._stderr_partial = (self._stderr_partial + data).split(b"\n")
            self.stderr_tail.extend(line.decode("utf-8", "replace").strip() for line in lines)

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        if fd == _STDOUT:
            self.stdout_closed = True
            self._wake_if_ready()
        elif fd == _STDERR and self._stderr_partial:
            self.stderr_tail.append(self._stderr_partial.decode("utf-8", "replace").strip())
            self._stderr_partial = b""

    def process_exited(self) -> None:
        if not self.exited.done():
            self.exited.set_result(None)
        self._wake_if_ready()

    def _wake_if_ready(self) -> None:
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        if (
            len(self.buffer) >= self._wanted
            or self.stdout_closed
            or self.exited.done()
            or self.interrupted
        ):
            waiter.set_result(None)


class FfmpegPcmProcess:
    """Async owner of one ffmpeg process whose stdout carries raw PCM."""

    def __init__(self, command: Sequence[str]) -> None:
        self._command = list(command)
        self._transport: asyncio.SubprocessTransport | None = None
        self._protocol: _PcmProtocol | None = None

    @property
    def pid(self) -> int | None:
        return None if self._transport is None else self._transport.get_pid()

    @property
    def returncode(self) -> int | None:
        return None if self._transport is None else self._transport.get_returncode()

    def describe_failure(self) -> str:
        """ffmpeg's last words (credentials redacted), for logs and diagnostics."""
        lines = [] if self._protocol is None else list(self._protocol.stderr_tail)
        message = " | ".join(line for line in lines if line)
        code = self.returncode
        exit_text = "" if code is None else f"exit {code}"
        return redact_url(", ".join(part for part in (exit_text, message) if part)) or "no message"

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            self._transport, self._protocol = await loop.subprocess_exec(
                lambda: _PcmProtocol(loop),
                *self._command,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                # Own process group: a Ctrl-C meant for Home Assistant must not kill ffmpeg behind
                # our back, and close() remains the single place that ends it.
                start_new_session=True,
            )
        except OSError as error:
            raise FfmpegStartError(f"cannot start {self._command[0]!r}: {error}") from error

    async def read_exactly(self, n_bytes: int, timeout_s: float) -> bytes:
        """``n_bytes`` of PCM; FfmpegEndedError at the end, FfmpegStalledError on a stall."""
        protocol = self._require_protocol()
        if len(protocol.buffer) < n_bytes:
            try:
                async with asyncio.timeout(timeout_s):
                    await protocol.wait_for(n_bytes)
            except TimeoutError as error:
                raise FfmpegStalledError(f"no audio for {timeout_s:g} s") from error
        if protocol.interrupted:
            raise FfmpegEndedError("interrupted")
        if len(protocol.buffer) < n_bytes:
            await self._settle()
            raise FfmpegEndedError(self.describe_failure())
        data = bytes(protocol.buffer[:n_bytes])
        del protocol.buffer[:n_bytes]
        return data

    def interrupt(self) -> None:
        """Make the pending (and every later) read raise FfmpegEndedError at once."""
        if self._protocol is not None:
            self._protocol.interrupt()

    async def close(self, timeout_s: float = 3.0) -> None:
        """Terminate, wait, kill if it will not go, and always reap."""
        transport, protocol = self._transport, self._protocol
        if transport is None or protocol is None:
            return
        try:
            if not protocol.exited.done():
                with contextlib.suppress(ProcessLookupError):
                    transport.terminate()
                try:
                    async with asyncio.timeout(timeout_s):
                        await asyncio.shield(protocol.exited)
                except TimeoutError:
                    with contextlib.suppress(ProcessLookupError):
                        transport.kill()
                    await asyncio.shield(protocol.exited)
        except asyncio.CancelledError:
            # Cancelled while waiting: kill now; asyncio's child watcher still reaps the pid.
            with contextlib.suppress(ProcessLookupError):
                transport.kill()
            raise
        finally:
            transport.close()

    async def _settle(self) -> None:
        # After EOF ffmpeg exits on its own; a moment later its exit code and stderr are known.
        protocol = self._require_protocol()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(1.0):
                await asyncio.shield(protocol.exited)

    def _require_protocol(self) -> _PcmProtocol:
        if self._protocol is None:
            raise RuntimeError("ffmpeg process not started")
        return self._protocol
