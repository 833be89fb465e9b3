"""Measure the lag between audio and readings on the Snapcast route, with and without a delay.

Usage: python scripts/measure_raw_pcm_lag.py [--delays 0 1 -1] [--seconds 12] [--latency-ms 0]
       (run with the repository's environment; needs Debian's snapserver and snapclient)

One snapserver plays generated music (after digital silence) to two snapclients with the file
player: a "speaker" whose FIFO is read by a thread noting when each byte arrives (snapclient writes
at play time, synchronised with every other client of the group), and the analyser's, read by the
raw-PCM source and analysed by the stream loop with the bundled model. Each reading is released
through the delay line, as Home Assistant's coordinator does. For each reading:

    lag = release time - time the speaker played the last sample of the reading's excerpt

(the excerpt's end is located in the speaker's audio through the onset of the music, which both
clients receive at the same sample). Printed per delay: median, min and max over the readings.

A live FIFO cannot be read ahead, so a negative delay is unreachable there; Snapcast's own way to
get readings earlier is to start the analyser's snapclient with ``--latency <ms>`` (it then plays,
and writes, that much before the other clients): ``--latency-ms`` measures that.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "custom_components" / "music_mood"))

from music_mood_core.delay import DelayLine, plan_delay  # noqa: E402
from music_mood_core.model import BUNDLED_MODEL_PATH, MoodModel, load_model  # noqa: E402
from music_mood_core.raw_pcm_fifo import FifoPcmReader  # noqa: E402
from music_mood_core.raw_pcm_format import parse_format  # noqa: E402
from music_mood_core.raw_pcm_stream import RawPcmSource  # noqa: E402
from music_mood_core.stream_loop import MoodReading, StreamLoop, StreamSettings  # noqa: E402

FORMAT = parse_format("48000:s16le:2")
SILENCE_S = 3.0


def music(seconds: float) -> bytes:
    rng = np.random.default_rng(9)
    t = np.arange(round(seconds * 48000)) / 48000
    segment = np.floor(t / 0.5).astype(np.int64)
    roots = 110.0 * 2.0 ** (rng.integers(0, 24, segment.max() + 1) / 12.0)
    mono = sum(np.sin(2 * np.pi * roots[segment] * r * t) for r in (1, 1.25, 1.5)) / 4
    mono = mono + 0.01 * rng.standard_normal(t.size)
    pcm = (np.clip(np.stack([mono, mono], 1), -1, 1) * 32767).round().astype("<i2")
    silence = np.zeros((round(SILENCE_S * 48000), 2), dtype="<i2")
    return np.concatenate([silence, pcm]).tobytes()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def first_nonzero_frame(data: bytes) -> int | None:
    frames = np.frombuffer(data[: len(data) - len(data) % 4], dtype="<u4")
    hits = np.flatnonzero(frames)
    return int(hits[0]) if hits.size else None


class Speaker(threading.Thread):
    """Reads a snapclient FIFO as a sound card would; notes when the music's first frame came."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.onset_at: float | None = None
        self.stop = threading.Event()

    def run(self) -> None:
        with self.path.open("rb", buffering=0) as fifo:
            while not self.stop.is_set():
                data = fifo.read(4096)
                if not data:
                    return
                if self.onset_at is None and first_nonzero_frame(data) is not None:
                    frame = first_nonzero_frame(data)
                    assert frame is not None
                    # The read returned when its last byte arrived: back-date to the onset frame.
                    self.onset_at = time.monotonic() - (len(data) // 4 - frame) / 48000


class RecordingReader(FifoPcmReader):
    def __init__(self, path: str) -> None:
        super().__init__(path, FORMAT.frame_bytes)
        self.delivered = bytearray()

    async def read(self, max_bytes: int) -> bytes:
        data = await super().read(max_bytes)
        self.delivered += data
        return data


class Model:
    def __init__(self, model: MoodModel) -> None:
        self.model = model

    async def async_model(self) -> MoodModel:
        return self.model

    def report_failure(self, message: str) -> None:
        raise RuntimeError(message)

    def confirm_working(self) -> None:
        return None


def start(command: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def measure(
    delay_s: float, seconds: float, model: MoodModel, folder: Path, latency_ms: int
) -> list[float]:
    feed, speaker_fifo, analyser_fifo = (folder / n for n in ("feed", "speaker", "analyser"))
    for fifo in (speaker_fifo, analyser_fifo):
        os.mkfifo(fifo)
    (folder / "snapserver.conf").write_text("")
    port = free_port()
    server = start(
        ["snapserver", "-c", str(folder / "snapserver.conf"), f"--server.datadir={folder}",
         "--http.enabled=false", f"--tcp.port={free_port()}", "--tcp.bind_to_address=127.0.0.1",
         f"--stream.port={port}", "--stream.bind_to_address=127.0.0.1", "--stream.codec=pcm",
         f"--stream.source=pipe://{feed}?name=default&mode=create", "--logging.sink=null"]
    )  # fmt: skip
    processes = [server]
    speaker = Speaker(speaker_fifo)
    reader = RecordingReader(str(analyser_fifo))
    source = RawPcmSource(reader, FORMAT)
    released: list[tuple[float, MoodReading]] = []
    loop = asyncio.get_running_loop()
    line: DelayLine[MoodReading] = DelayLine(
        plan_delay(delay_s, paced=False).hold_s, model.info.hop_s
    )

    def release_due() -> None:
        now = loop.time()
        for reading in line.pop_due(now):
            released.append((time.monotonic(), reading))
        wait = line.next_due_in(now)
        if wait is not None:
            loop.call_later(wait, release_due)

    def on_reading(reading: MoodReading) -> None:
        for due in line.push(reading, loop.time()):
            released.append((time.monotonic(), due))
        wait = line.next_due_in(loop.time())
        if wait is not None:
            loop.call_later(wait, release_due)

    async def resolve() -> RawPcmSource:
        await source.async_open()
        return source

    stream = StreamLoop(
        name="lag",
        source_name=str(analyser_fifo),
        settings=StreamSettings(
            smoothing_s=0.0, silence_threshold_db=-60.0, silence_duration_s=1.0,
            stall_timeout_s=10.0, probe_timeout_s=15.0, backoff_min_s=1.0, backoff_max_s=1.0,
            delay_s=delay_s,
        ),
        models=Model(model),
        resolve_source=resolve,
        run_blocking=asyncio.to_thread,
        on_reading=on_reading,
        on_status=lambda: None,
    )  # fmt: skip
    try:
        while not feed.exists():  # noqa: ASYNC110 (snapserver creates it; no event to await)
            await asyncio.sleep(0.05)
        speaker.start()
        stream.start(asyncio.ensure_future)
        for fifo, latency in ((speaker_fifo, 0), (analyser_fifo, latency_ms)):
            processes.append(
                start(["snapclient", "-h", "127.0.0.1", "-p", str(port), "--player",
                       f"file:filename={fifo}", "--mixer", "none", "--latency", str(latency),
                       "--hostID", f"lag-{fifo.name}-{os.getpid()}", "--logsink", "null"])
            )  # fmt: skip
        await asyncio.sleep(2.0)  # both clients connected and playing silence

        def write_feed() -> None:
            with feed.open("wb") as pipe:
                pipe.write(music(seconds))

        writer = threading.Thread(target=write_feed, daemon=True)
        writer.start()
        await asyncio.sleep(SILENCE_S + seconds + 3.0)
    finally:
        await stream.async_stop()
        source.close()
        speaker.stop.set()
        for process in reversed(processes):
            stop(process)
    if stream.stats.ffmpeg_starts != 1 or speaker.onset_at is None:
        raise RuntimeError(f"the stream restarted or no music arrived ({stream.stats})")
    onset_frame = first_nonzero_frame(bytes(reader.delivered))
    assert onset_frame is not None
    sample_rate = model.info.sample_rate
    onset_sample = onset_frame * sample_rate / 48000
    lags = []
    for released_at, reading in released:
        if reading.end_sample <= onset_sample + model.info.excerpt_stream().excerpt_samples:
            continue  # excerpts that still hold silence
        played_at = speaker.onset_at + (reading.end_sample - onset_sample) / sample_rate
        lags.append(released_at - played_at)
    return lags


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delays", type=float, nargs="+", default=[0.0, 1.0, -1.0])
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument(
        "--latency-ms", type=int, default=0, help="the analyser's snapclient --latency"
    )
    args = parser.parse_args()
    if shutil.which("snapserver") is None or shutil.which("snapclient") is None:
        sys.exit("needs snapserver and snapclient (apt-get install snapserver snapclient)")
    model = load_model(BUNDLED_MODEL_PATH, engine="numpy")
    for delay_s in args.delays:
        with tempfile.TemporaryDirectory() as folder:
            lags = asyncio.run(measure(delay_s, args.seconds, model, Path(folder), args.latency_ms))
        plan = plan_delay(delay_s, paced=False)
        print(
            f"snapclient --latency {args.latency_ms} ms, delay {delay_s:+.1f} s "
            f"(hold {plan.hold_s:.1f} s, unreachable "
            f"{plan.unreachable_s:.1f} s): lag behind the speaker over {len(lags)} readings: "
            f"median {statistics.median(lags) * 1000:.0f} ms, min {min(lags) * 1000:.0f} ms, "
            f"max {max(lags) * 1000:.0f} ms"
        )


if __name__ == "__main__":
    main()
