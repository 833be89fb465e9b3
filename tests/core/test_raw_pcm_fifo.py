"""The FIFO/pipe-file reader: no hang without a writer, EOF at the writer's end, whole frames."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from pathlib import Path

import pytest
from music_mood_core.raw_pcm_fifo import FifoPcmReader
from music_mood_core.raw_pcm_source import RawPcmSourceError

STEREO_S16_FRAME = 4


def _write_then_close(path: Path, *pieces: bytes) -> threading.Thread:
    """A writer in a thread: a blocking open of the FIFO waits for our reader, like a player."""

    def run() -> None:
        with path.open("wb", buffering=0) as fifo:
            for piece in pieces:
                fifo.write(piece)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


async def _read_to_end(reader: FifoPcmReader) -> list[bytes]:
    pieces = []
    while piece := await asyncio.wait_for(reader.read(65536), 10.0):
        pieces.append(piece)
    return pieces


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "audio.fifo"
    os.mkfifo(path)
    return path


def test_without_a_writer_open_returns_and_read_waits_without_blocking_the_loop(
    fifo: Path,
) -> None:
    async def scenario() -> int:
        reader = FifoPcmReader(str(fifo), STEREO_S16_FRAME)
        await reader.open()  # a blocking open would wait here for a writer forever
        ticks = 0

        async def count() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        counter = asyncio.create_task(count())
        try:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(reader.read(4096), 0.3)
        finally:
            counter.cancel()
            reader.close()
        assert reader.received_bytes == 0
        return ticks

    assert asyncio.run(scenario()) > 1, "the event loop did not run while the reader waited"


def test_a_writer_closing_is_the_end_and_a_reopen_follows_the_next_writer(fifo: Path) -> None:
    first, second = bytes(range(256)) * 16, bytes(reversed(range(256))) * 8

    async def scenario() -> tuple[bytes, bytes, int]:
        reader = FifoPcmReader(str(fifo), STEREO_S16_FRAME)
        await reader.open()
        writer = _write_then_close(fifo, first)
        got_first = b"".join(await _read_to_end(reader))
        writer.join()
        reader.close()
        # The player restarts: a new open sees the new writer, not the old one's hang-up.
        await reader.open()
        writer = _write_then_close(fifo, second)
        got_second = b"".join(await _read_to_end(reader))
        writer.join()
        received = reader.received_bytes
        reader.close()
        return got_first, got_second, received

    got_first, got_second, received = asyncio.run(scenario())
    assert got_first == first
    assert got_second == second
    assert received == len(second)


def test_reads_are_whole_frames_even_when_the_writer_splits_them(fifo: Path) -> None:
    """Frames written in odd pieces still come out whole; a split frame at the end is dropped."""
    frames = bytes(range(200))  # 50 frames of 4 bytes
    pieces = [frames[:3], frames[3:10], frames[10:101], frames[101:], b"\x01\x02"]

    async def scenario() -> list[bytes]:
        reader = FifoPcmReader(str(fifo), STEREO_S16_FRAME)
        await reader.open()

        def run() -> None:
            with fifo.open("wb", buffering=0) as out:
                for piece in pieces:
                    out.write(piece)
                    # Let the reader see each piece on its own.
                    threading.Event().wait(0.02)

        writer = threading.Thread(target=run, daemon=True)
        writer.start()
        try:
            return await _read_to_end(reader)
        finally:
            writer.join()
            reader.close()

    got = asyncio.run(scenario())
    assert all(len(piece) % STEREO_S16_FRAME == 0 for piece in got)
    assert b"".join(got) == frames


def test_a_regular_file_is_read_to_its_end(tmp_path: Path) -> None:
    path = tmp_path / "audio.raw"
    data = os.urandom(200_000)
    path.write_bytes(data)

    async def scenario() -> tuple[bytes, bool]:
        reader = FifoPcmReader(str(path), STEREO_S16_FRAME)
        await reader.open()
        try:
            return b"".join(await _read_to_end(reader)), reader.is_live
        finally:
            reader.close()

    got, live = asyncio.run(scenario())
    assert got == data
    assert live is False


@pytest.mark.parametrize(
    ("make", "says"),
    [
        ("folder", "is a folder"),
        ("device", "is a device"),
        ("socket", "is a socket"),
        ("missing", "does not exist"),
    ],
)
def test_what_is_not_a_fifo_or_file_is_refused_naming_what_it_is(
    tmp_path: Path, make: str, says: str
) -> None:
    path = tmp_path / make
    listener = None
    if make == "folder":
        path.mkdir()
    elif make == "device":
        path = Path("/dev/null")
    elif make == "socket":
        listener = socket.socket(socket.AF_UNIX)
        listener.bind(str(path))

    async def scenario() -> None:
        await FifoPcmReader(str(path)).open()

    try:
        with pytest.raises(RawPcmSourceError, match=says):
            asyncio.run(scenario())
    finally:
        if listener is not None:
            listener.close()


def test_a_relative_path_is_refused() -> None:
    with pytest.raises(RawPcmSourceError, match="absolute path"):
        FifoPcmReader("snapfifo")
