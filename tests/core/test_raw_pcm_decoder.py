"""Raw PCM through a FIFO into ffmpeg (real processes): the samples training's decoder would give.

Parity: what the live decoder makes of a FIFO's bytes is byte-identical to ffmpeg decoding the same
bytes from a file, and for s16le to decoding a WAV file of them through ``decode_file`` (the path
training and the ``analyze`` action use), so features and readings are the offline ones exactly.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import subprocess
import threading
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from music_mood_core.audio import BYTES_PER_SAMPLE, decode_file, ffmpeg_pcm_command
from music_mood_core.features import ExcerptStream, FrameGrid
from music_mood_core.ffmpeg_process import FfmpegEndedError, FfmpegStartError
from music_mood_core.raw_pcm_decoder import RawPcmDecoder, RawPcmWaitingError
from music_mood_core.raw_pcm_fifo import FifoPcmReader
from music_mood_core.raw_pcm_format import RawPcmFormat, parse_format
from numpy.typing import NDArray

MODEL_RATE = 22050
HOP = MODEL_RATE // 2


def music_like(
    sample_rate: int, channels: int, seconds: float, seed: int = 7
) -> NDArray[np.float64]:
    """Notes with decaying envelopes over noise, different per channel: (frames, channels)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(sample_rate * seconds)) / sample_rate
    out = np.zeros((t.size, channels))
    for channel in range(channels):
        for start in np.arange(0.0, seconds, 0.25):
            frequency = 110.0 * 2 ** (rng.integers(0, 36) / 12)
            envelope = np.exp(-np.clip(t - start, 0, None) * 6.0) * (t >= start)
            out[:, channel] += 0.15 * envelope * np.sin(2 * np.pi * frequency * (t - start))
        out[:, channel] += 0.02 * rng.standard_normal(t.size)
    return np.clip(out, -1.0, 1.0)


def encode(signal: NDArray[np.float64], sample_format: str) -> bytes:
    if sample_format == "s16le":
        return (signal * 32767).round().astype("<i2").tobytes()
    if sample_format == "s32le":
        return (signal * 2147483647).round().astype("<i4").tobytes()
    return signal.astype("<f4").tobytes()


def offline_decode(raw: Path, pcm_format: RawPcmFormat) -> bytes:
    """ffmpeg decoding the same bytes from a file: the reference for the live path."""
    command = ffmpeg_pcm_command(
        f"file:{raw}", MODEL_RATE, input_options=pcm_format.ffmpeg_input_options()
    )
    return subprocess.run(command, capture_output=True, check=True, timeout=60).stdout


def write_wav(path: Path, data: bytes, sample_rate: int, channels: int) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(data)


def writer_thread(fifo: Path, data: bytes, pieces: int = 7) -> threading.Thread:
    """A player writing into the FIFO in uneven pieces, then closing it."""

    def run() -> None:
        cuts = np.linspace(0, len(data), pieces + 1).astype(int) + np.arange(pieces + 1) % 3
        cuts[0], cuts[-1] = 0, len(data)
        with fifo.open("wb", buffering=0) as out:
            for start, end in itertools.pairwise(cuts):
                out.write(data[start:end])

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


async def decode_all(decoder: RawPcmDecoder, on_started: Callable[[], object]) -> bytes:
    await decoder.start()
    on_started()
    out = bytearray()
    try:
        while chunk := await decoder.read_chunk(HOP * BYTES_PER_SAMPLE, 20.0):
            out += chunk
    finally:
        await decoder.close()
    return bytes(out)


async def read_hops_until_the_end(decoder: RawPcmDecoder) -> None:
    while True:
        await decoder.read_exactly(HOP * BYTES_PER_SAMPLE, 20.0)


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "player.fifo"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize(
    "text", ["48000:s16le:2", "44100:s16le:2", "16000:s16le:1", "8000:s32le:1", "48000:f32le:2"]
)
def test_live_decoding_equals_ffmpeg_decoding_the_same_bytes_from_a_file(
    fifo: Path, tmp_path: Path, text: str
) -> None:
    pcm_format = parse_format(text)
    data = encode(
        music_like(pcm_format.sample_rate, pcm_format.channels, 4.0), pcm_format.sample_format
    )
    raw = tmp_path / "same.raw"
    raw.write_bytes(data)
    writers: list[threading.Thread] = []
    decoder = RawPcmDecoder(
        FifoPcmReader(str(fifo), pcm_format.frame_bytes), pcm_format, MODEL_RATE
    )
    live = asyncio.run(decode_all(decoder, lambda: writers.append(writer_thread(fifo, data))))
    writers[0].join()
    assert len(live) == pytest.approx(4.0 * MODEL_RATE * BYTES_PER_SAMPLE, rel=0.01)
    assert live == offline_decode(raw, pcm_format)
    assert decoder.returncode == 0


def test_live_features_equal_the_training_decoders_features_of_a_wav_of_the_same_bytes(
    fifo: Path, tmp_path: Path
) -> None:
    """Snapcast's format (48 kHz stereo s16le) gives the analysis of a WAV: equal, not close."""
    pcm_format = parse_format("48000:s16le:2")
    data = encode(music_like(48000, 2, 6.0, seed=3), "s16le")
    writers: list[threading.Thread] = []
    decoder = RawPcmDecoder(
        FifoPcmReader(str(fifo), pcm_format.frame_bytes), pcm_format, MODEL_RATE, frame_samples=HOP
    )
    live_pcm = np.frombuffer(
        asyncio.run(decode_all(decoder, lambda: writers.append(writer_thread(fifo, data)))),
        dtype="<i2",
    )
    writers[0].join()
    wav = tmp_path / "same.wav"
    write_wav(wav, data, 48000, 2)
    offline_pcm = decode_file(wav, MODEL_RATE)
    np.testing.assert_array_equal(live_pcm, offline_pcm)

    def features(pcm: NDArray[np.int16], chunk: int) -> NDArray[np.float64]:
        stream = ExcerptStream(FrameGrid.from_seconds(MODEL_RATE, 0.05, 0.05), hop_samples=HOP)
        windows = [
            w
            for start in range(0, pcm.size, chunk)
            for w in stream.push(pcm[start : start + chunk])
        ]
        return np.stack([window.features for window in windows])

    # Live: pushed hop by hop as it arrives; offline: the whole decoded file at once.
    live_features = features(live_pcm, HOP)
    offline_features = features(offline_pcm, offline_pcm.size)
    assert live_features.shape[0] >= 6
    np.testing.assert_allclose(live_features, offline_features, rtol=0, atol=1e-5)


@pytest.mark.parametrize("text", ["16000:s16le:1", "48000:s16le:2"])
def test_every_hop_comes_out_once_its_audio_is_in_whatever_the_source_rate(
    fifo: Path, text: str
) -> None:
    """The grouping into hops counts the model's samples, not the source's: 3.6 s of audio, the
    writer still there, yield seven 0.5 s hops. Groups of 11 025 source samples would have held the
    seventh back (0.69 s groups of a 16 kHz source, 0.23 s ones of a 48 kHz source: 3.45 s out)."""
    pcm_format = parse_format(text)
    data = encode(music_like(pcm_format.sample_rate, pcm_format.channels, 3.6), "s16le")
    done = threading.Event()

    def write_and_stay() -> None:
        with fifo.open("wb", buffering=0) as out:
            out.write(data)
            done.wait(60)

    writer = threading.Thread(target=write_and_stay, daemon=True)
    decoder = RawPcmDecoder(
        FifoPcmReader(str(fifo), pcm_format.frame_bytes), pcm_format, MODEL_RATE, frame_samples=HOP
    )

    async def seven_hops() -> bytes:
        await decoder.start()
        writer.start()
        try:
            return b"".join(
                [await decoder.read_exactly(HOP * BYTES_PER_SAMPLE, 20.0) for _ in range(7)]
            )
        finally:
            done.set()
            await decoder.close()

    hops = np.frombuffer(asyncio.run(seven_hops()), dtype="<i2")
    writer.join()
    assert hops.size == 7 * HOP
    assert np.abs(hops[-HOP:]).max() > 1000  # the music, not padding


def test_no_writer_means_waiting_for_audio_not_a_hang(fifo: Path) -> None:
    pcm_format = parse_format("48000:s16le:2")

    async def scenario() -> str:
        decoder = RawPcmDecoder(FifoPcmReader(str(fifo), 4), pcm_format, MODEL_RATE)
        await decoder.start()
        try:
            with pytest.raises(RawPcmWaitingError) as caught:
                await decoder.read_exactly(HOP * BYTES_PER_SAMPLE, 0.5)
        finally:
            await decoder.close()
        return str(caught.value)

    message = asyncio.run(scenario())
    assert message.startswith("waiting for audio")
    assert str(fifo) in message


def test_the_writer_closing_ends_the_stream_with_a_message_naming_the_fifo(fifo: Path) -> None:
    pcm_format = parse_format("16000:s16le:1")
    data = encode(music_like(16000, 1, 1.0), "s16le")

    async def scenario() -> str:
        decoder = RawPcmDecoder(FifoPcmReader(str(fifo), 2), pcm_format, MODEL_RATE)
        await decoder.start()
        writer = writer_thread(fifo, data)
        try:
            with pytest.raises(FfmpegEndedError) as caught:
                await read_hops_until_the_end(decoder)
        finally:
            await decoder.close()
            writer.join()
        assert decoder.source_ended
        return str(caught.value)

    assert asyncio.run(scenario()) == f"{fifo} ended (its writer closed it)"


def test_a_decoder_restart_keeps_the_fifo_so_the_writer_survives(fifo: Path) -> None:
    """A restart (model reload, stall) must not close the FIFO: its writer would die of SIGPIPE."""
    pcm_format = parse_format("48000:s16le:2")
    data = encode(music_like(48000, 2, 3.0), "s16le")
    failures: list[BaseException] = []

    def run() -> None:
        try:
            with fifo.open("wb", buffering=0) as out:
                for start in range(0, len(data), 19200):  # 0.1 s pieces
                    out.write(data[start : start + 19200])
                    threading.Event().wait(0.02)
        except BaseException as error:  # BrokenPipeError is what this test is about
            failures.append(error)

    async def scenario() -> tuple[int, bytes]:
        reader = FifoPcmReader(str(fifo), pcm_format.frame_bytes)
        first = RawPcmDecoder(reader, pcm_format, MODEL_RATE, owns_source=False)
        await first.start()
        writer = threading.Thread(target=run, daemon=True)
        writer.start()
        await first.read_exactly(HOP * BYTES_PER_SAMPLE, 20.0)
        await first.close()
        second = RawPcmDecoder(reader, pcm_format, MODEL_RATE, owns_source=False)
        await second.start()
        rest = bytearray()
        try:
            while chunk := await second.read_chunk(HOP * BYTES_PER_SAMPLE, 20.0):
                rest += chunk
        finally:
            await second.close()
        writer.join()
        return reader.received_bytes, bytes(rest)

    received, rest = asyncio.run(scenario())
    assert failures == []
    assert received == len(data)  # every byte written was read: the writer never lost its reader
    assert len(rest) > HOP * BYTES_PER_SAMPLE


def test_a_slow_reader_of_a_big_file_holds_only_a_bounded_part_of_it(tmp_path: Path) -> None:
    """A regular raw file is read only as fast as the decoded audio is taken."""
    pcm_format = parse_format("48000:s16le:2")
    raw = tmp_path / "hour.raw"
    one_second = encode(music_like(48000, 2, 1.0), "s16le")
    raw.write_bytes(one_second * 60)

    async def scenario() -> tuple[int, int]:
        reader = FifoPcmReader(str(raw), pcm_format.frame_bytes)
        decoder = RawPcmDecoder(reader, pcm_format, MODEL_RATE, max_buffered_bytes=4 * HOP * 2)
        await decoder.start()
        try:
            for _ in range(6):
                await decoder.read_exactly(HOP * BYTES_PER_SAMPLE, 20.0)
                await asyncio.sleep(0.1)
            return reader.received_bytes, decoder.peak_buffered_bytes
        finally:
            await decoder.close()

    received, peak = asyncio.run(scenario())
    assert received < len(one_second) * 60 // 4, "the whole file was read into memory"
    assert peak <= 4 * HOP * 2 + 64 * 1024


def test_a_missing_ffmpeg_is_a_start_error_and_the_source_is_closed(fifo: Path) -> None:
    pcm_format = parse_format("48000:s16le:2")
    reader = FifoPcmReader(str(fifo), 4)

    async def scenario() -> None:
        decoder = RawPcmDecoder(reader, pcm_format, MODEL_RATE, ffmpeg_binary="/nonexistent/ffmpeg")
        await decoder.start()

    with pytest.raises(FfmpegStartError, match="nonexistent"):
        asyncio.run(scenario())
    assert reader.received_bytes == 0
    with pytest.raises(OSError, match="not open"):
        asyncio.run(reader.read(4))
