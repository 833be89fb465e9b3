"""The ffmpeg reader: back-pressure bounds unread PCM, chunked reads keep the tail (real ffmpeg)."""

from __future__ import annotations

import asyncio
import signal

from music_mood_core.audio import BYTES_PER_SAMPLE, ffmpeg_pcm_command
from music_mood_core.ffmpeg_process import FfmpegPcmProcess

SAMPLE_RATE = 8000
# Linux's default pipe capacity: what one read of ffmpeg's stdout can return at most.
PIPE_CAPACITY = 64 * 1024


def _tone_command(duration_s: float) -> list[str]:
    """A generated tone: ffmpeg decodes it hundreds of times faster than real time."""
    return ffmpeg_pcm_command(
        f"sine=frequency=440:sample_rate={SAMPLE_RATE}:duration={duration_s}",
        SAMPLE_RATE,
        input_options=("-f", "lavfi"),
    )


def test_a_slow_reader_pauses_ffmpeg_instead_of_buffering_its_output() -> None:
    """An hour of audio decodes in seconds; a reader taking 50 ms per hop never holds much of it."""
    limit = 4 * 4000 * BYTES_PER_SAMPLE

    async def scenario() -> tuple[int, int, int, int | None]:
        process = FfmpegPcmProcess(_tone_command(3600), max_buffered_bytes=limit)
        await process.start()
        try:
            for _ in range(40):
                assert len(await process.read_exactly(4000 * BYTES_PER_SAMPLE, 10.0)) == 8000
                await asyncio.sleep(0.05)
            peak, pauses, buffered = (
                process.peak_buffered_bytes,
                process.pauses,
                process.buffered_bytes,
            )
        finally:
            await process.close()
        return peak, pauses, buffered, process.returncode

    peak, pauses, buffered, returncode = asyncio.run(scenario())
    assert pauses >= 1, "ffmpeg was never paused: the test did not produce faster than it read"
    assert buffered <= limit + PIPE_CAPACITY
    # Without back-pressure the buffer holds all 57.6 MB of the hour within seconds.
    assert peak <= limit + PIPE_CAPACITY
    # A paused ffmpeg still ends on SIGTERM (its blocked write is drained), not by SIGKILL.
    assert returncode != -signal.SIGKILL


def test_a_request_larger_than_the_limit_still_completes() -> None:
    async def scenario() -> int:
        process = FfmpegPcmProcess(_tone_command(60), max_buffered_bytes=1024)
        await process.start()
        try:
            return len(await process.read_exactly(10 * SAMPLE_RATE * BYTES_PER_SAMPLE, 10.0))
        finally:
            await process.close()

    assert asyncio.run(scenario()) == 10 * SAMPLE_RATE * BYTES_PER_SAMPLE


def test_read_chunk_returns_the_short_tail_then_empty_with_ffmpeg_s_exit_code() -> None:
    async def scenario() -> tuple[list[int], int | None]:
        process = FfmpegPcmProcess(_tone_command(1.25))
        await process.start()
        sizes = []
        try:
            while chunk := await process.read_chunk(6000, 10.0):
                sizes.append(len(chunk))
        finally:
            await process.close()
        return sizes, process.returncode

    sizes, returncode = asyncio.run(scenario())
    assert sum(sizes) == round(1.25 * SAMPLE_RATE) * BYTES_PER_SAMPLE
    assert sizes[:-1] == [6000] * (len(sizes) - 1)
    assert returncode == 0


def test_read_chunk_of_a_failed_input_is_empty_with_the_failure() -> None:
    async def scenario() -> tuple[bytes, int | None, str]:
        process = FfmpegPcmProcess(ffmpeg_pcm_command("file:/nonexistent/song.ogg", SAMPLE_RATE))
        await process.start()
        try:
            return (
                await process.read_chunk(6000, 10.0),
                process.returncode,
                process.describe_failure(),
            )
        finally:
            await process.close()

    chunk, returncode, failure = asyncio.run(scenario())
    assert chunk == b""
    assert returncode not in (None, 0)
    assert "No such file or directory" in failure
