"""One ffmpeg child process decoding to PCM on stdout, read asynchronously, always reaped.

The process is started from an argument list (never a shell). ``close`` terminates, waits with a
timeout, kills if needed and waits again, so no zombie or orphan survives, even when the caller is
cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Sequence
from typing import Final

from .audio import redact_url

_STDERR_LINES_KEPT: Final = 20
_READ_LIMIT: Final = 1 << 20


class FfmpegStartError(OSError):
    """The ffmpeg executable could not be started."""


class FfmpegStalledError(TimeoutError):
    """ffmpeg produced no audio for longer than the stall timeout."""


class FfmpegEndedError(EOFError):
    """ffmpeg closed its output: the stream ended or the input failed."""


class FfmpegPcmProcess:
    """Async owner of one ffmpeg process whose stdout carries raw PCM."""

    def __init__(self, command: Sequence[str]) -> None:
        self._command = list(command)
        self._process: asyncio.subprocess.Process | None = None
        self._stderr_task: asyncio.Task[None] | None = None
        self._stderr_tail: deque[str] = deque(maxlen=_STDERR_LINES_KEPT)

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    @property
    def returncode(self) -> int | None:
        return None if self._process is None else self._process.returncode

    def describe_failure(self) -> str:
        """ffmpeg's last words (credentials redacted), for logs and diagnostics."""
        message = " | ".join(line for line in self._stderr_tail if line)
        code = self.returncode
        exit_text = "" if code is None else f"exit {code}"
        return redact_url(", ".join(part for part in (exit_text, message) if part)) or "no message"

    async def start(self) -> None:
        try:
            self._process = await asyncio.create_subprocess_exec(
                *self._command,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                limit=_READ_LIMIT,
                # Own process group: a Ctrl-C meant for Home Assistant must not kill ffmpeg behind
                # our back, and our close() remains the single place that ends it.
                start_new_session=True,
            )
        except OSError as error:
            raise FfmpegStartError(f"cannot start {self._command[0]!r}: {error}") from error
        self._stderr_task = asyncio.create_task(self._collect_stderr(), name="ffmpeg stderr")

    async def read_exactly(self, n_bytes: int, timeout_s: float) -> bytes:
        """Exactly ``n_bytes`` of PCM; raises FfmpegEndedError at the end, FfmpegStalledError on
        silence.
        """
        process = self._require_process()
        assert process.stdout is not None
        try:
            async with asyncio.timeout(timeout_s):
                return await process.stdout.readexactly(n_bytes)
        except asyncio.IncompleteReadError as error:
            await self._settle()
            raise FfmpegEndedError(self.describe_failure()) from error
        except TimeoutError as error:
            raise FfmpegStalledError(f"no audio for {timeout_s:g} s") from error

    async def close(self, timeout_s: float = 3.0) -> None:
        """Terminate, wait, kill if it will not go, and always reap."""
        process = self._process
        if process is None:
            return
        try:
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.terminate()
                try:
                    async with asyncio.timeout(timeout_s):
                        await process.wait()
                except TimeoutError:
                    with contextlib.suppress(ProcessLookupError):
                        process.kill()
                    await process.wait()
        except asyncio.CancelledError:
            # Cancelled while waiting: kill now; asyncio's child watcher still reaps the pid.
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            raise
        finally:
            await self._stop_stderr_task()

    async def _settle(self) -> None:
        # After EOF ffmpeg exits on its own; give it a moment so the exit code and stderr are known.
        process = self._require_process()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(1.0):
                await process.wait()
                if self._stderr_task is not None:
                    await asyncio.shield(self._stderr_task)

    async def _stop_stderr_task(self) -> None:
        task, self._stderr_task = self._stderr_task, None
        if task is None:
            return
        if not task.done():
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _collect_stderr(self) -> None:
        process = self._require_process()
        assert process.stderr is not None
        while line := await process.stderr.readline():
            self._stderr_tail.append(line.decode("utf-8", errors="replace").strip())

    def _require_process(self) -> asyncio.subprocess.Process:
        if self._process is None:
            raise RuntimeError("ffmpeg process not started")
        return self._process
