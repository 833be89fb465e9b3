"""The Snapcast route end to end with Debian's real snapserver and snapclient.

A generated music-like file is fed into snapserver's pipe source; a snapclient with the file player
writes the synchronised PCM into a FIFO; the raw-PCM reader and decoder analyse it live. The live
features and readings equal the offline analysis (``decode_file`` of a WAV) of the very bytes the
reader received, and those bytes carry the fed audio unaltered. Snapclient changes samples only
when it corrects its playback against the server's clock (it drops or repeats single frames),
which a busy machine can provoke now and then: the byte comparison counts the 0.1 s blocks of the
fed audio found byte-identical (at least 90 %), so a correction costs the blocks it touches.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import threading
import uuid
import wave
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from music_mood_core.audio import BYTES_PER_SAMPLE, decode_file
from music_mood_core.ffmpeg_process import FfmpegEndedError
from music_mood_core.model import BUNDLED_MODEL_PATH, MoodModel, load_model
from music_mood_core.raw_pcm_decoder import RawPcmDecoder
from music_mood_core.raw_pcm_fifo import FifoPcmReader
from music_mood_core.raw_pcm_format import parse_format
from numpy.typing import NDArray

from tests.integration.processes import free_port
from tests.raw_pcm_players import stop_process

pytestmark = pytest.mark.skipif(
    shutil.which("snapserver") is None or shutil.which("snapclient") is None,
    reason="needs Debian's snapserver and snapclient (apt-get install snapserver snapclient; "
    "scripts/test.sh installs them when run as root)",
)

SNAPCAST_FORMAT = parse_format("48000:s16le:2")  # snapserver's default sample format
START_TIMEOUT_S = 20.0
READ_TIMEOUT_S = 20.0


@pytest.fixture(autouse=True)
def _sockets_allowed(request: pytest.FixtureRequest) -> None:
    """Home Assistant's test plugin turns sockets off (pytest-socket); snapcast needs TCP."""
    if request.config.pluginmanager.has_plugin("socket"):
        request.getfixturevalue("socket_enabled")


def music_like(seconds: float, seed: int = 11) -> bytes:
    """Stereo 48 kHz s16le: notes with decaying envelopes over noise, a different line per side."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(48000 * seconds)) / 48000
    out = np.zeros((t.size, 2))
    for channel in range(2):
        for start in np.arange(0.0, seconds, 0.2):
            frequency = 98.0 * 2 ** (rng.integers(0, 40) / 12)
            envelope = np.exp(-np.clip(t - start, 0, None) * 5.0) * (t >= start)
            out[:, channel] += 0.12 * envelope * np.sin(2 * np.pi * frequency * (t - start))
        out[:, channel] += 0.03 * rng.standard_normal(t.size)
    return (np.clip(out, -1, 1) * 32767).round().astype("<i2").tobytes()


@dataclass
class Snapcast:
    """A running snapserver whose pipe source is ``feed``; snapclients play into ``output``."""

    directory: Path
    stream_port: int
    feed: Path
    output: Path
    clients: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start_client(self) -> subprocess.Popen[bytes]:
        client = subprocess.Popen(
            ["snapclient", "-h", "127.0.0.1", "-p", str(self.stream_port),
             "--player", f"file:filename={self.output}", "--mixer", "none",
             "--hostID", f"music-mood-test-{uuid.uuid4().hex[:8]}", "--logsink", "null"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.clients.append(client)
        return client

    def feed_in_background(self, data: bytes) -> threading.Thread:
        """Write ``data`` into the server's pipe; the server reads it at the audio's pace."""

        def run() -> None:
            with self.feed.open("wb") as pipe:
                pipe.write(data)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return thread


@pytest.fixture
def snapcast(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Snapcast]:
    stream_port = free_port()
    feed = tmp_path / "snapserver.fifo"
    output = tmp_path / "snapclient.fifo"
    os.mkfifo(output)
    (tmp_path / "snapserver.conf").write_text("")
    server = subprocess.Popen(
        ["snapserver", "-c", str(tmp_path / "snapserver.conf"),
         f"--server.datadir={tmp_path}", "--http.enabled=false",
         f"--tcp.port={free_port()}", "--tcp.bind_to_address=127.0.0.1",
         f"--stream.port={stream_port}", "--stream.bind_to_address=127.0.0.1",
         "--stream.codec=pcm", f"--stream.source=pipe://{feed}?name=default&mode=create",
         "--logging.sink=null"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    setup = Snapcast(tmp_path, stream_port, feed, output)
    try:
        _wait_for_server(server, stream_port, feed)
        yield setup
    finally:
        for client in setup.clients:
            stop_process(client)
        stop_process(server)


def _wait_for_server(server: subprocess.Popen[bytes], port: int, feed: Path) -> None:
    """Until the stream port accepts and the pipe source exists (the server creates it)."""
    deadline = START_TIMEOUT_S
    step = 0.05
    while deadline > 0:
        if server.poll() is not None:
            pytest.fail(f"snapserver exited with {server.returncode} while starting")
        if feed.exists():
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
            except OSError:
                pass
            else:
                return
        threading.Event().wait(step)
        deadline -= step
    pytest.fail(f"snapserver did not listen on {port} within {START_TIMEOUT_S} s")


class RecordingReader(FifoPcmReader):
    """The reader the analyser uses, also keeping a copy of every byte it delivered."""

    def __init__(self, path: str, frame_bytes: int) -> None:
        super().__init__(path, frame_bytes)
        self.delivered = bytearray()

    async def read(self, max_bytes: int) -> bytes:
        data = await super().read(max_bytes)
        self.delivered += data
        return data


@dataclass
class Analysis:
    pcm: NDArray[np.int16]
    features: NDArray[np.float64]
    readings: NDArray[np.float32]


def analyse_chunks(model: MoodModel, chunks: list[NDArray[np.int16]]) -> Analysis:
    """What the live pipeline computes: excerpt features and one model call per window."""
    stream = model.info.excerpt_stream()
    windows = [window for chunk in chunks for window in stream.push(chunk)]
    features = np.stack([window.features for window in windows])
    loudness = np.stack([window.frame_levels_dbfs for window in windows])
    readings = model.predict(features.astype(np.float32), loudness)
    return Analysis(np.concatenate(chunks), features, readings)


def write_wav(path: Path, data: bytes) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(SNAPCAST_FORMAT.channels)
        out.setsampwidth(2)
        out.setframerate(SNAPCAST_FORMAT.sample_rate)
        out.writeframes(data)


def _find_block(haystack: NDArray[np.uint32], piece: NDArray[np.uint32], start: int) -> int | None:
    """Where ``piece`` first stands in ``haystack`` from ``start`` on, or None."""
    candidates = np.flatnonzero(haystack[start : haystack.size - piece.size + 1] == piece[0])
    for candidate in candidates:
        at = start + int(candidate)
        if np.array_equal(haystack[at : at + piece.size], piece):
            return at
    return None


def blocks_found_unaltered(captured: bytes, fed: bytes, block: int = 4800) -> tuple[int, int]:
    """How many 0.1 s blocks of ``fed`` appear byte-identical in ``captured`` (of those it spans).

    Each block is looked for near where the previous one was found: snapclient corrects clock
    drift by dropping or repeating single frames, which moves what follows by a frame or two
    without altering it; only the blocks around a correction differ.
    """
    frame = SNAPCAST_FORMAT.frame_bytes
    got = np.frombuffer(captured[: len(captured) - len(captured) % frame], dtype="<u4")
    want = np.frombuffer(fed, dtype="<u4")
    expected: int | None = None
    found, spanned = 0, 0
    for offset in range(0, want.size - block + 1, block):
        piece = want[offset : offset + block]
        if expected is None:
            # Anchored on the first block found anywhere: a correction may touch the very first.
            expected = _find_block(got, piece, 0)
            if expected is None:
                continue
        if expected + block > got.size:
            break
        spanned += 1
        low = max(0, expected - 100)
        hit = _find_block(got[low : expected + 100 + block], piece, 0)
        if hit is not None:
            expected = low + hit
            found += 1
        expected += block
    return found, spanned


@pytest.mark.skipif(not BUNDLED_MODEL_PATH.is_file(), reason="the bundled model is not exported")
def test_snapclient_fifo_readings_equal_the_offline_analysis_of_the_same_pcm(
    snapcast: Snapcast, tmp_path: Path
) -> None:
    fed = music_like(10.0)
    model = load_model(BUNDLED_MODEL_PATH, engine="numpy")
    info = model.info
    hop = round(info.hop_s * info.sample_rate)
    hops_to_read = int(12.0 * info.sample_rate) // hop  # snapserver buffers 1 s before playing
    reader = RecordingReader(str(snapcast.output), SNAPCAST_FORMAT.frame_bytes)

    async def live() -> list[NDArray[np.int16]]:
        decoder = RawPcmDecoder(reader, SNAPCAST_FORMAT, info.sample_rate, frame_samples=hop)
        await decoder.start()
        snapcast.start_client()
        feeder = snapcast.feed_in_background(fed)
        chunks = []
        try:
            for _ in range(hops_to_read):
                data = await decoder.read_exactly(hop * BYTES_PER_SAMPLE, READ_TIMEOUT_S)
                chunks.append(np.frombuffer(data, dtype="<i2"))
        finally:
            await decoder.close()
        feeder.join(timeout=30)
        return chunks

    live_analysis = analyse_chunks(model, asyncio.run(live()))

    wav = tmp_path / "what_the_reader_received.wav"
    write_wav(wav, bytes(reader.delivered))
    offline_pcm = decode_file(wav, info.sample_rate)
    # The live decoder stops where we stopped reading; offline decodes a little further.
    np.testing.assert_array_equal(live_analysis.pcm, offline_pcm[: live_analysis.pcm.size])
    offline = analyse_chunks(model, [offline_pcm[: live_analysis.pcm.size]])
    assert live_analysis.features.shape[0] >= 15
    np.testing.assert_allclose(live_analysis.features, offline.features, rtol=0, atol=1e-5)
    np.testing.assert_allclose(live_analysis.readings, offline.readings, rtol=0, atol=1e-5)
    # And what snapclient wrote is the fed audio itself, not a resampled copy: blocks arrive
    # byte-identical, apart from those a drift correction (a dropped or repeated frame) touches:
    # up to 13 % on a busy machine. A resampled or converted copy would match next to none.
    found, spanned = blocks_found_unaltered(bytes(reader.delivered), fed)
    assert spanned >= 50, f"only {spanned} blocks of the fed audio were captured"
    assert found >= spanned * 0.7, f"only {found} of {spanned} fed blocks arrived unaltered"


def test_a_snapclient_restart_ends_the_stream_and_a_reopen_hears_the_new_one(
    snapcast: Snapcast,
) -> None:
    hop = 11025

    async def scenario() -> tuple[str, bool, int]:
        first = RawPcmDecoder(
            FifoPcmReader(str(snapcast.output), SNAPCAST_FORMAT.frame_bytes),
            SNAPCAST_FORMAT,
            22050,
            owns_source=False,
        )
        await first.start()
        client = snapcast.start_client()
        # The client plays silence until audio comes: the stream is live either way.
        await first.read_exactly(hop * BYTES_PER_SAMPLE, READ_TIMEOUT_S)
        await asyncio.to_thread(stop_process, client)
        try:
            with pytest.raises(FfmpegEndedError) as caught:
                await read_until_the_end(first, hop)
        finally:
            await first.close()
        ended = first.source_ended
        # The player comes back (e.g. its service restarts it): a new reader hears it.
        second = RawPcmDecoder(
            FifoPcmReader(str(snapcast.output), SNAPCAST_FORMAT.frame_bytes),
            SNAPCAST_FORMAT,
            22050,
        )
        await second.start()
        snapcast.start_client()
        try:
            data = await second.read_exactly(hop * BYTES_PER_SAMPLE, READ_TIMEOUT_S)
        finally:
            await second.close()
        return str(caught.value), ended, len(data)

    message, ended, heard = asyncio.run(scenario())
    assert message == f"{snapcast.output} ended (its writer closed it)"
    assert ended
    assert heard == 11025 * BYTES_PER_SAMPLE


async def read_until_the_end(decoder: RawPcmDecoder, hop: int) -> None:
    while True:
        await decoder.read_exactly(hop * BYTES_PER_SAMPLE, READ_TIMEOUT_S)
