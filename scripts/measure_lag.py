"""Measure, per route, the lag between audio and readings with and without the delay option.

Usage: python scripts/measure_lag.py [--routes snapcast udp sendspin http] [--delays 0 1 -1]
           [--seconds 12] [--latency-ms 0] [--sendspin-python PYTHON]
       (run with a Home Assistant test environment's Python: the analyser's modules are imported
       from the integration; snapcast needs Debian's snapserver and snapclient, sendspin a Python
       with aiosendspin's server role, by default $MUSIC_MOOD_SENDSPIN_SERVER_PYTHON)

Each route feeds generated music (after digital silence) through the software that produces it
here into the real stream loop with the bundled model; readings pass the delay line as the
coordinator's held readings do (scripts/lag_harness.py). For each reading whose excerpt holds
music only:

    lag = release time - when the last sample of the reading's excerpt was played or sent

- snapcast: one snapserver, two snapclients with the file player: a "speaker" FIFO read as a sound
  card would (snapclient writes at play time, in sync with every client of the group) and the
  analyser's FIFO. Against the moment the speaker played the sample (found through the music's
  onset). ``--latency-ms`` starts the analyser's snapclient that much ahead (``--latency``),
  Snapcast's own way to get readings earlier.
- udp: a sender pacing 16 kHz mono s16le in 20 ms datagrams to the analyser's local port (as an
  ESPHome microphone component does). Against the moment the sender sent the sample.
- sendspin: aiosendspin's server (tests/integration/sendspin_server.py) streaming to the Sendspin
  player Music Mood uses. Against the chunk's play time (the server's stamp, through the player's
  clock sync). Readings are ready before that; how far is printed (how much a negative delay can
  advance them), and how many came too late for the advance.
- http: a server pacing a WAV file in real time (tests/integration/stream_server.py), read by ffmpeg
  as an http source (a Music Assistant group stream is one). Against the moment the server sent
  the sample: Music Assistant's own lead over its speakers cannot be measured without it.

A live source without play times (FIFO, UDP) cannot be read before its audio arrives: a negative
delay is clamped there and its unreachable part reported. A Sendspin stream knows when each sample
plays: a negative delay releases each reading that long before its play time (or when it is made,
if that is later).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
import wave
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from lag_figures import (
    LagFigures,
    LagRow,
    first_nonzero_frame,
    generated_music,
    lag_table,
    music_lags,
    paced_send_time,
    resampled_frame,
)

# lag_harness puts the repository on the path, for the integration's modules below.
from lag_harness import (
    REPO,
    HeldReleases,
    RecordingByteSource,
    analyser_loop,
    start,
)

from custom_components.music_mood.audio_source import HTTP_INPUT_OPTIONS, FfmpegInput
from custom_components.music_mood.music_mood_core.delay import plan_delay
from custom_components.music_mood.music_mood_core.model import (
    BUNDLED_MODEL_PATH,
    MoodModel,
    load_model,
)
from custom_components.music_mood.music_mood_core.pcm_source import (
    FfmpegPcmSource,
    PcmFormat,
    PcmSource,
)
from custom_components.music_mood.music_mood_core.raw_pcm_fifo import FifoPcmReader
from custom_components.music_mood.music_mood_core.raw_pcm_format import (
    RawPcmFormat,
    parse_format,
)
from custom_components.music_mood.music_mood_core.raw_pcm_stream import RawPcmSource
from custom_components.music_mood.music_mood_core.raw_pcm_udp import UdpPcmReceiver
from custom_components.music_mood.music_mood_core.sendspin_wire import parse_server_url
from custom_components.music_mood.music_mood_core.stream_loop import StreamLoop
from custom_components.music_mood.sendspin_player import SendspinPlayer
from tests.integration.processes import free_port
from tests.raw_pcm_players import stop_process

SILENCE_S = 3.0
# Time for the last readings to be released after the audio ends (the longest hold, 2.5 s, + a hop).
RELEASE_TAIL_S = 3.5
SNAPCAST_FORMAT = parse_format("48000:s16le:2")
UDP_FORMAT = parse_format("16000:s16le:1")
UDP_DATAGRAM_S = 0.02
SERVED_RATE, SERVED_CHANNELS = 44100, 2
SENDSPIN_SERVER = REPO / "tests" / "integration" / "sendspin_server.py"
STREAM_SERVER = REPO / "tests" / "integration" / "stream_server.py"
SENDSPIN_PYTHON_VARIABLE = "MUSIC_MOOD_SENDSPIN_SERVER_PYTHON"


@dataclass(frozen=True, slots=True)
class Measured:
    lags_s: list[float]
    note: str


@dataclass(frozen=True, slots=True)
class Run:
    """What a route measurement is given."""

    delay_s: float
    seconds: float
    model: MoodModel
    folder: Path
    options: argparse.Namespace

    @property
    def sample_rate(self) -> int:
        return int(self.model.info.sample_rate)

    def music_ends(self, music_start: float = 0.0) -> tuple[float, float]:
        """End samples of the first and the last excerpt holding music only, when the music starts
        at the analyser's sample ``music_start``."""
        first = music_start + self.model.info.excerpt_stream().excerpt_samples
        return first, music_start + self.seconds * self.sample_rate

    def releases(self, heard_in_s: Callable[[int], float | None] | None = None) -> HeldReleases:
        return HeldReleases(self.folder, self.model.info.hop_s, heard_in_s)

    def loop(
        self, name: str, resolve: Callable[[], Awaitable[PcmSource]], releases: HeldReleases
    ) -> StreamLoop:
        return analyser_loop(name, resolve, self.delay_s, self.model, releases)


def clamp_note(delay_s: float) -> str:
    plan = plan_delay(delay_s, paced=False)
    return (
        f"live source: {plan.unreachable_s:g} s unreachable, clamped" if plan.unreachable_s else ""
    )


def released_pairs(releases: HeldReleases, shift: float = 0.0) -> list[tuple[int, float]]:
    """(end sample counted from ``shift``, release time) of every released reading."""
    return [(round(r.reading.end_sample - shift), r.released_at) for r in releases.releases]


def spawn(coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
    return asyncio.get_running_loop().create_task(coroutine)


def resolve_opened(source: RawPcmSource) -> Callable[[], Awaitable[PcmSource]]:
    async def resolve() -> PcmSource:
        await source.async_open()
        return source

    return resolve


async def analyse_raw_pcm(
    run: Run,
    byte_source: RecordingByteSource,
    pcm_format: RawPcmFormat,
    play: Callable[[], Awaitable[None]],
) -> tuple[HeldReleases, float]:
    """Stream a raw-PCM source through the analyser while ``play`` runs; returns the releases
    and the analyser's sample (model rate) where the music starts."""
    source = RawPcmSource(byte_source, pcm_format)
    releases = run.releases()
    stream = run.loop(byte_source.description, resolve_opened(source), releases)
    source.on_audio = stream.request_restart
    stream.start(spawn)
    try:
        await play()
        await asyncio.sleep(RELEASE_TAIL_S)
    finally:
        await stream.async_stop()
        await releases.async_close()
        source.close()
    onset_frame = first_nonzero_frame(bytes(byte_source.delivered), pcm_format.frame_bytes)
    # Sample counts start again with each stream: one stream, or the onset does not map.
    if stream.stats.ffmpeg_starts != 1 or onset_frame is None:
        raise RuntimeError(f"the stream restarted or no music arrived ({stream.stats})")
    return releases, onset_frame * run.sample_rate / pcm_format.sample_rate


# ---------------------------------------------------------------- snapcast


class Speaker(threading.Thread):
    """Reads a snapclient FIFO as a sound card would; notes when the music's first frame came."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.onset_at: float | None = None
        self.stop = threading.Event()

    def run(self) -> None:
        frame_bytes = SNAPCAST_FORMAT.frame_bytes
        with self.path.open("rb", buffering=0) as fifo:
            while not self.stop.is_set():
                data = fifo.read(4096)
                if not data:
                    return
                frame = first_nonzero_frame(data, frame_bytes)
                if self.onset_at is None and frame is not None:
                    # The read returned when its last byte arrived: back-date to the onset frame.
                    arrived = time.monotonic()
                    self.onset_at = arrived - (len(data) // frame_bytes - frame) / 48000


async def measure_snapcast(run: Run) -> Measured:
    folder = run.folder
    feed, speaker_fifo, analyser_fifo = (folder / n for n in ("feed", "speaker", "analyser"))
    for fifo in (speaker_fifo, analyser_fifo):
        os.mkfifo(fifo)
    (folder / "snapserver.conf").write_text("")
    port = free_port()
    processes = [
        start(["snapserver", "-c", str(folder / "snapserver.conf"), f"--server.datadir={folder}",
               "--http.enabled=false", f"--tcp.port={free_port()}",
               "--tcp.bind_to_address=127.0.0.1", f"--stream.port={port}",
               "--stream.bind_to_address=127.0.0.1", "--stream.codec=pcm",
               f"--stream.source=pipe://{feed}?name=default&mode=create", "--logging.sink=null"])
    ]  # fmt: skip
    speaker = Speaker(speaker_fifo)
    reader = RecordingByteSource(FifoPcmReader(str(analyser_fifo), SNAPCAST_FORMAT.frame_bytes))
    music = generated_music(run.seconds, 48000, 2, SILENCE_S)

    async def play() -> None:
        while not feed.exists():  # noqa: ASYNC110 (snapserver creates it; no event to await)
            await asyncio.sleep(0.05)
        speaker.start()
        for fifo, latency in ((speaker_fifo, 0), (analyser_fifo, run.options.latency_ms)):
            processes.append(
                start(["snapclient", "-h", "127.0.0.1", "-p", str(port), "--player",
                       f"file:filename={fifo}", "--mixer", "none", "--latency", str(latency),
                       "--hostID", f"lag-{fifo.name}-{os.getpid()}", "--logsink", "null"])
            )  # fmt: skip
        await asyncio.sleep(2.0)  # both clients connected and playing silence
        # snapserver reads its pipe at the music's pace: the write lasts as long as the music.
        await asyncio.to_thread(feed.write_bytes, music)

    try:
        releases, onset = await analyse_raw_pcm(run, reader, SNAPCAST_FORMAT, play)
    finally:
        speaker.stop.set()
        for process in reversed(processes):
            stop_process(process)
    onset_at = speaker.onset_at
    if onset_at is None:
        raise RuntimeError("the speaker heard no music")
    lags = music_lags(
        released_pairs(releases, onset),
        run.music_ends(),
        lambda end: onset_at + end / run.sample_rate,
    )
    latency = f"snapclient --latency {run.options.latency_ms} ms" * bool(run.options.latency_ms)
    return Measured(lags, "; ".join(filter(None, (latency, clamp_note(run.delay_s)))))


# ---------------------------------------------------------------- udp


async def measure_udp(run: Run) -> Measured:
    port = free_port(socket.SOCK_DGRAM)
    receiver = RecordingByteSource(UdpPcmReceiver("127.0.0.1", port, UDP_FORMAT))
    music = generated_music(run.seconds, UDP_FORMAT.sample_rate, 1, SILENCE_S)
    chunk_frames = round(UDP_DATAGRAM_S * UDP_FORMAT.sample_rate)
    chunk_bytes = chunk_frames * UDP_FORMAT.frame_bytes
    sent_at: list[float] = []

    def send() -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            started = time.monotonic()
            for index, offset in enumerate(range(0, len(music), chunk_bytes)):
                due = paced_send_time(
                    started, index * chunk_frames, chunk_frames, UDP_FORMAT.sample_rate
                )
                time.sleep(max(0.0, due - time.monotonic()))
                sender.sendto(music[offset : offset + chunk_bytes], ("127.0.0.1", port))
                sent_at.append(time.monotonic())

    async def play() -> None:
        await asyncio.sleep(1.0)  # the stream loop listens
        await asyncio.to_thread(send)

    releases, onset = await analyse_raw_pcm(run, receiver, UDP_FORMAT, play)
    sender_onset = first_nonzero_frame(music, UDP_FORMAT.frame_bytes)
    assert sender_onset is not None

    def sent(end: int) -> float | None:
        last = resampled_frame(end - 1, run.sample_rate, 0.0, sender_onset, UDP_FORMAT.sample_rate)
        index = last // chunk_frames
        return sent_at[index] if 0 <= index < len(sent_at) else None

    lags = music_lags(released_pairs(releases, onset), run.music_ends(), sent)
    return Measured(lags, clamp_note(run.delay_s))


# ---------------------------------------------------------------- sendspin and http (WAV files)


def write_wav(path: Path, seconds: float) -> None:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(SERVED_CHANNELS)
        wav.setsampwidth(2)
        wav.setframerate(SERVED_RATE)
        wav.writeframes(generated_music(seconds, SERVED_RATE, SERVED_CHANNELS, SILENCE_S))


async def read_line(process: Any) -> str:
    line: bytes = await asyncio.to_thread(process.stdout.readline)
    return line.decode().strip()


async def expect_line(process: Any, prefix: str, timeout_s: float = 20.0) -> str:
    async with asyncio.timeout(timeout_s):
        while not (line := await read_line(process)).startswith(prefix):
            if not line and process.poll() is not None:
                raise RuntimeError(f"the server ended before saying {prefix!r}")
    return line


async def measure_sendspin(run: Run) -> Measured:
    python = run.options.sendspin_python
    wav = run.folder / "music.wav"
    write_wav(wav, run.seconds)
    port = free_port()
    server = start([python, str(SENDSPIN_SERVER), str(wav), str(port)], talk=True)
    silence = SILENCE_S * run.sample_rate
    try:
        await expect_line(server, "ready")
        async with aiohttp.ClientSession() as session:
            player = SendspinPlayer(
                session, parse_server_url(f"ws://127.0.0.1:{port}"), client_id="music-mood-lag",
                name="Music Mood lag", on_change=lambda: None,
            )  # fmt: skip
            player.ensure_running(run.sample_rate, spawn)
            await expect_line(server, "client")
            releases = run.releases(player.seconds_until_heard)
            stream = run.loop(
                "sendspin", lambda: player.async_resolve(run.sample_rate, spawn), releases
            )
            assert server.stdin is not None
            server.stdin.write(b"play\n")
            server.stdin.flush()
            while player.stream is None:  # noqa: ASYNC110 (the player has no event for it)
                await asyncio.sleep(0.01)
            played = player.stream
            stream.start(spawn)
            try:
                await expect_line(server, "ended", timeout_s=run.seconds + 30.0)
                await asyncio.sleep(RELEASE_TAIL_S)
            finally:
                await stream.async_stop()
                await releases.async_close()
                await player.async_stop()

            def heard(end: int) -> float | None:
                at = played.play_time_s(end - 1)
                return None if at is None else at + 1 / run.sample_rate

            lags = music_lags(released_pairs(releases), run.music_ends(silence), heard)
            made = [(r.reading.end_sample, r.made_at) for r in releases.releases]
            ahead = [-lag for lag in music_lags(made, run.music_ends(silence), heard)]
    finally:
        stop_process(server)
    note = (
        f"readings made {statistics.median(ahead) * 1000:.0f} ms (min {min(ahead) * 1000:.0f}) "
        "before play time"
    )
    if run.delay_s < 0:
        late = releases.lateness
        note += f"; {late.late_readings} of {len(releases.releases)} readings too late to advance"
    return Measured(lags, note)


async def measure_http(run: Run) -> Measured:
    wav = run.folder / "music.wav"
    write_wav(wav, run.seconds)
    port = free_port()
    server = start(
        [sys.executable, str(STREAM_SERVER), str(wav), str(port), "--pace", "--announce"],
        talk=True,
    )
    try:
        await expect_line(server, "ready")
        releases = run.releases()
        url_input = FfmpegInput(f"http://127.0.0.1:{port}/music.wav", HTTP_INPUT_OPTIONS)

        def command(pcm_format: PcmFormat) -> list[str]:
            return url_input.command(
                "ffmpeg", pcm_format.sample_rate, live=True, frame_samples=pcm_format.hop_samples
            )

        async def resolve() -> PcmSource:
            return FfmpegPcmSource(command)

        stream = run.loop("http", resolve, releases)
        stream.start(spawn)
        try:
            _, started, chunk_bytes = (await expect_line(server, "sending")).split()
            await asyncio.sleep(SILENCE_S + run.seconds + RELEASE_TAIL_S)
        finally:
            await stream.async_stop()
            await releases.async_close()
    finally:
        stop_process(server)
    chunk_frames = int(chunk_bytes) // (2 * SERVED_CHANNELS)

    def sent(end: int) -> float:
        last = resampled_frame(end - 1, run.sample_rate, 0.0, 0, SERVED_RATE)
        return paced_send_time(float(started), last, chunk_frames, SERVED_RATE)

    silence = SILENCE_S * run.sample_rate
    lags = music_lags(released_pairs(releases), run.music_ends(silence), sent)
    return Measured(lags, "")


@dataclass(frozen=True, slots=True)
class Route:
    measure: Callable[[Run], Coroutine[Any, Any, Measured]]
    measured_against: str
    default_delays: tuple[float, ...]


ROUTES = {
    "snapcast": Route(
        measure_snapcast, "time a synchronised snapclient played the excerpt's last sample",
        (0.0, 1.0, 2.5, -1.0),
    ),
    "udp": Route(measure_udp, "time the sender sent the excerpt's last sample",
                 (0.0, 1.0, 2.5, -1.0)),
    "sendspin": Route(measure_sendspin, "play time of the excerpt's last sample (server stamp)",
                      (0.0, 1.0, -0.5, -1.0)),
    "http": Route(measure_http, "time the paced server sent the excerpt's last sample",
                  (0.0, 1.0)),
}  # fmt: skip


def missing_prerequisite(route: str, options: argparse.Namespace) -> str | None:
    if route == "snapcast" and not (shutil.which("snapserver") and shutil.which("snapclient")):
        return "needs snapserver and snapclient (apt-get install snapserver snapclient)"
    if route == "sendspin" and not options.sendspin_python:
        return f"needs --sendspin-python or {SENDSPIN_PYTHON_VARIABLE} (aiosendspin[server])"
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--routes", nargs="+", choices=sorted(ROUTES), default=list(ROUTES))
    parser.add_argument("--delays", type=float, nargs="+", help="default: per route")
    parser.add_argument("--seconds", type=float, default=12.0, help="music per measurement")
    parser.add_argument(
        "--latency-ms", type=int, default=0, help="the analyser's snapclient --latency"
    )
    parser.add_argument(
        "--sendspin-python",
        default=os.environ.get(SENDSPIN_PYTHON_VARIABLE),
        help="a Python with aiosendspin[server] to run the Sendspin server",
    )
    options = parser.parse_args()
    # Each measurement ends its stream on purpose: no "audio unavailable" warnings in the tables.
    logging.getLogger("custom_components.music_mood").setLevel(logging.ERROR)
    model = load_model(BUNDLED_MODEL_PATH, engine="numpy")
    for name in options.routes:
        route = ROUTES[name]
        if (missing := missing_prerequisite(name, options)) is not None:
            print(f"{name}: not measured, {missing}\n")
            continue
        rows = []
        for delay_s in options.delays or route.default_delays:
            with tempfile.TemporaryDirectory() as folder:
                run = Run(delay_s, options.seconds, model, Path(folder), options)
                measured = asyncio.run(route.measure(run))
            rows.append(LagRow(delay_s, LagFigures.of(measured.lags_s), measured.note))
        print(lag_table(name, route.measured_against, rows) + "\n", flush=True)


if __name__ == "__main__":
    main()
