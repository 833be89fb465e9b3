"""One ffmpeg child process decoding to PCM on stdout, read asynchronously, always reaped.

The process is started from an argument list (never a shell). ``close`` terminates, waits with a
timeout, kills if needed and waits again, so no zombie or orphan survives, even when the caller is
cancelled.

PCM arrives through a protocol that only wakes the reader once a whole request is buffered: ffmpeg
writes a live stream in dozens of small pieces a second, and waking a task for each one would cost
more CPU than the analysis itself.

The protocol also applies back-pressure: once ``max_buffered_bytes`` of unread PCM wait (and no
pending request needs more), it stops reading ffmpeg's stdout. The pipe fills, ffmpeg blocks on its
write and stops reading its input, and a network source is throttled by TCP itself; memory stays
bounded however fast the input arrives and however slowly the caller reads.

A process started with ``input_pipe`` reads its input from stdin (raw PCM a FIFO or a UDP socket
delivered): ``write_input`` waits while the pipe is full, so the same back-pressure reaches whoever
feeds it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Sequence
from typing import Final

from .audio import redact_url

_STDERR_LINES_KEPT: Final = 20
# Unread PCM kept before ffmpeg's stdout is paused: a few hops of a live stream, about 3 s at
# 22.05 kHz. Requests larger than this still complete (the limit rises to the request).
DEFAULT_MAX_BUFFERED_BYTES: Final = 128 * 1024
_STDIN: Final = 0
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

    def __init__(self, loop: asyncio.AbstractEventLoop, max_buffered_bytes: int) -> None:
        self.buffer = bytearray()
        self.stdout_closed = False
        self.exited: asyncio.Future[None] = loop.create_future()
        self.stderr_tail: deque[str] = deque(maxlen=_STDERR_LINES_KEPT)
        self._stderr_partial = b""
        self._waiter: asyncio.Future[None] | None = None
        self._wanted = 0
        self.interrupted = False
        self.max_buffered_bytes = max_buffered_bytes
        self.peak_buffered_bytes = 0
        self.pauses = 0
        self._stdout: asyncio.ReadTransport | None = None
        self._paused = False
        self._discarding = False
        self.stdin_closed = False
        # Set while ffmpeg's stdin pipe accepts more (asyncio pauses writing when it is full).
        self.can_write = asyncio.Event()
        self.can_write.set()

    def pause_writing(self) -> None:
        self.can_write.clear()

    def resume_writing(self) -> None:
        self.can_write.set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if isinstance(transport, asyncio.SubprocessTransport):
            pipe = transport.get_pipe_transport(_STDOUT)
            if isinstance(pipe, asyncio.ReadTransport):
                self._stdout = pipe

    def interrupt(self) -> None:
        self.interrupted = True
        self._wake_if_ready()

    def wait_for(self, n_bytes: int) -> asyncio.Future[None]:
        loop = self.exited.get_loop()
        self._waiter = loop.create_future()
        self._wanted = n_bytes
        self._wake_if_ready()
        self.update_flow()
        return self._waiter

    def discard_output(self) -> None:
        """From now on drop stdout: a paused ffmpeg blocks in write() and would not see SIGTERM."""
        self._discarding = True
        self.buffer.clear()
        self.update_flow()

    def update_flow(self) -> None:
        """Pause stdout while enough is buffered for every pending request; resume otherwise."""
        pipe = self._stdout
        if pipe is None or self.stdout_closed or pipe.is_closing():
            return
        if self._discarding:
            if self._paused:
                self._paused = False
                pipe.resume_reading()
            return
        waiting = self._waiter is not None and not self._waiter.done()
        limit = max(self.max_buffered_bytes, self._wanted if waiting else 0)
        if len(self.buffer) >= limit:
            if not self._paused:
                self._paused = True
                self.pauses += 1
                pipe.pause_reading()
        elif self._paused:
            self._paused = False
            pipe.resume_reading()

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        if fd == _STDOUT:
            if self._discarding:
                return
            self.buffer += data
            self.peak_buffered_bytes = max(self.peak_buffered_bytes, len(self.buffer))
            self._wake_if_ready()
            self.update_flow()
        elif fd == _STDERR:
            *lines, self._stderr_partial = (self._stderr_partial + data).split(b"\n")
            self.stderr_tail.extend(line.decode("utf-8", "replace").strip() for line in lines)

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        if fd == _STDIN:
            self.stdin_closed = True
            self.can_write.set()  # a writer waiting for room learns that there will be none
        elif fd == _STDOUT:
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

    def __init__(
        self,
        command: Sequence[str],
        *,
        max_buffered_bytes: int = DEFAULT_MAX_BUFFERED_BYTES,
        input_pipe: bool = False,
    ) -> None:
        if max_buffered_bytes <= 0:
            raise ValueError(f"max_buffered_bytes must be positive (got {max_buffered_bytes})")
        self._command = list(command)
        self._max_buffered_bytes = max_buffered_bytes
        self._input_pipe = input_pipe
        self._transport: asyncio.SubprocessTransport | None = None
        self._protocol: _PcmProtocol | None = None

    @property
    def pid(self) -> int | None:
        return None if self._transport is None else self._transport.get_pid()

    @property
    def returncode(self) -> int | None:
        return None if self._transport is None else self._transport.get_returncode()

    @property
    def buffered_bytes(self) -> int:
        """PCM read from ffmpeg that the caller has not taken yet."""
        return 0 if self._protocol is None else len(self._protocol.buffer)

    @property
    def peak_buffered_bytes(self) -> int:
        """The most unread PCM ever held at once: bounded by back-pressure."""
        return 0 if self._protocol is None else self._protocol.peak_buffered_bytes

    @property
    def pauses(self) -> int:
        """How often back-pressure paused ffmpeg's output (0: the reader always kept up)."""
        return 0 if self._protocol is None else self._protocol.pauses

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
                lambda: _PcmProtocol(loop, self._max_buffered_bytes),
                *self._command,
                stdin=asyncio.subprocess.PIPE if self._input_pipe else asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                # Own process group: a Ctrl-C meant for Home Assistant must not kill ffmpeg behind
                # our back, and close() remains the single place that ends it.
                start_new_session=True,
            )
        except OSError as error:
            raise FfmpegStartError(f"cannot start {self._command[0]!r}: {error}") from error

    async def write_input(self, data: bytes) -> None:
        """Give ``data`` to ffmpeg's stdin, then wait while the pipe is full (back-pressure).

        FfmpegEndedError once ffmpeg no longer reads its input (it exited or was closed).
        """
        pipe, protocol = self._stdin_pipe()
        if protocol.stdin_closed or pipe.is_closing():
            raise FfmpegEndedError(f"ffmpeg stopped reading its input ({self.describe_failure()})")
        pipe.write(data)
        await protocol.can_write.wait()

    def close_input(self) -> None:
        """End ffmpeg's input: it decodes what it has, writes it out and exits."""
        pipe, _protocol = self._stdin_pipe()
        if not pipe.is_closing():
            pipe.close()

    def _stdin_pipe(self) -> tuple[asyncio.WriteTransport, _PcmProtocol]:
        protocol = self._require_protocol()
        pipe = None if self._transport is None else self._transport.get_pipe_transport(_STDIN)
        if not isinstance(pipe, asyncio.WriteTransport):
            raise RuntimeError("ffmpeg was not started with an input pipe")
        return pipe, protocol

    async def read_exactly(self, n_bytes: int, timeout_s: float) -> bytes:
        """``n_bytes`` of PCM; FfmpegEndedError at the end, FfmpegStalledError on a stall."""
        protocol = await self._await_bytes(n_bytes, timeout_s)
        if len(protocol.buffer) < n_bytes:
            await self._settle()
            raise FfmpegEndedError(self.describe_failure())
        return self._take(n_bytes)

    async def read_chunk(self, max_bytes: int, timeout_s: float | None = None) -> bytes:
        """Up to ``max_bytes`` of PCM: fewer only at the end of the output, ``b""`` after it.

        At the end ffmpeg has exited (or is given a moment to): ``returncode`` then tells a
        complete decode (0) from a failure (``describe_failure``). A ``timeout_s`` without any
        audio raises FfmpegStalledError.
        """
        protocol = await self._await_bytes(max_bytes, timeout_s)
        if not protocol.buffer:
            await self._settle()
        return self._take(min(max_bytes, len(protocol.buffer)))

    async def _await_bytes(self, n_bytes: int, timeout_s: float | None) -> _PcmProtocol:
        """The protocol once it holds ``n_bytes`` or the output ended.

        FfmpegStalledError when ``timeout_s`` passes first, FfmpegEndedError when interrupted.
        """
        protocol = self._require_protocol()
        if len(protocol.buffer) < n_bytes:
            try:
                async with asyncio.timeout(timeout_s):
                    await protocol.wait_for(n_bytes)
            except TimeoutError as error:
                raise FfmpegStalledError(f"no audio for {timeout_s:g} s") from error
        if protocol.interrupted:
            raise FfmpegEndedError("interrupted")
        return protocol

    def _take(self, n_bytes: int) -> bytes:
        protocol = self._require_protocol()
        data = bytes(protocol.buffer[:n_bytes])
        del protocol.buffer[:n_bytes]
        protocol.update_flow()
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
                protocol.discard_output()
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
