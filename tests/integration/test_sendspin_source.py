"""The Sendspin player against a real Sendspin server (aiosendspin's server role, its own process).

The server streams a generated WAV file to the player the way Music Assistant streams a group:
PCM chunks stamped with the server-clock moment they are heard. The analysis reads the player's
stream hop by hop through the live path (``timeline_step``), and its play times are checked
against the server's own timestamps mapped through the true offset between the two clocks.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import struct
import subprocess
import sys
import time
import wave
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import pytest
from aiohttp import web
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.music_mood.const import (
    CONF_DELAY_S,
    CONF_ENTRY_KIND,
    CONF_MODEL,
    CONF_SILENCE_DURATION_S,
    CONF_SMOOTHING_S,
    CONF_SOURCE,
    CONF_SOURCE_TYPE,
    DOMAIN,
    ENTRY_KIND_ANALYSER,
    SOURCE_TYPE_SENDSPIN,
)
from custom_components.music_mood.coordinator import AnalyserCoordinator
from custom_components.music_mood.music_mood_core.features import ExcerptStream
from custom_components.music_mood.music_mood_core.model import (
    DEFAULT_MODEL_ID,
    MoodModel,
    load_model,
)
from custom_components.music_mood.music_mood_core.pcm_source import (
    PcmFormat,
    SourceUnavailableError,
)
from custom_components.music_mood.music_mood_core.sendspin_wire import parse_server_url
from custom_components.music_mood.music_mood_core.stream_loop import MoodReading
from custom_components.music_mood.music_mood_core.timeline import (
    Timeline,
    timeline,
    timeline_step,
)
from custom_components.music_mood.sendspin_player import (
    SendspinPlayer,
    SendspinStream,
)
from tests.data_paths import REPO_ROOT

from .flows import analyser_source_step
from .processes import free_port, wait_for

SERVER_SCRIPT = Path(__file__).with_name("sendspin_server.py")
BUNDLED_MODEL = REPO_ROOT / "custom_components" / "music_mood" / "models" / "default.onnx"
SAMPLE_RATE = 22050
# Readable by the server's interpreter: aiosendspin's server role, and aiohttp web responses that
# are truthy (aiohttp >= 3.12; Home Assistant 2025.4 pins 3.11, whose empty responses are falsy).
_SERVER_PROBE = (
    "import aiohttp.web, aiosendspin.server; assert '__bool__' in vars(aiohttp.web.StreamResponse)"
)
SERVER_PYTHON_VARIABLE = "MUSIC_MOOD_SENDSPIN_SERVER_PYTHON"


def _server_python() -> str | None:
    for candidate in (os.environ.get(SERVER_PYTHON_VARIABLE), sys.executable):
        if candidate and Path(candidate).exists():
            probe = subprocess.run(
                [candidate, "-c", _SERVER_PROBE], check=False, capture_output=True
            )
            if probe.returncode == 0:
                return candidate
    return None


@pytest.fixture(scope="module")
def server_python() -> str:
    python = _server_python()
    if python is None:
        pytest.skip(
            "needs a Python with aiosendspin[server]==10.2.1 and aiohttp >= 3.12 to run the "
            f"Sendspin server: set {SERVER_PYTHON_VARIABLE} (scripts/test.sh builds one)"
        )
    return python


@pytest.fixture(scope="module")
def music_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12 s of generated music-like audio (a chord with a moving level over pink noise)."""
    path = tmp_path_factory.mktemp("sendspin") / "music.wav"
    expression = (
        "0.25*sin(2*PI*220*t)*(0.6+0.4*sin(2*PI*0.3*t))"
        "+0.15*sin(2*PI*277.2*t)+0.12*sin(2*PI*329.6*t)*gt(t\\,5)"
    )
    subprocess.run(
        [
            "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error",
            "-f", "lavfi", "-i", f"aevalsrc={expression}:s={SAMPLE_RATE}:d=12",
            "-f", "lavfi", "-i", f"anoisesrc=d=12:c=pink:r={SAMPLE_RATE}:a=0.08:seed=7",
            "-filter_complex", "amix=inputs=2:normalize=0",
            "-ac", "1", "-ar", str(SAMPLE_RATE), "-c:a", "pcm_s16le", str(path),
        ],
        check=True,
    )  # fmt: skip
    return path


def _wav_samples(path: Path) -> np.ndarray[Any, np.dtype[np.int16]]:
    with wave.open(str(path), "rb") as wav:
        return np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").astype(np.int16)


class SendspinServerProcess:
    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process

    def line(self) -> str:
        assert self.process.stdout is not None
        return self.process.stdout.readline().decode().strip()

    def play(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(b"play\n")
        self.process.stdin.flush()


@pytest.fixture
def sendspin_server(
    server_python: str, music_wav: Path, socket_enabled: None
) -> Iterator[tuple[int, SendspinServerProcess]]:
    port = free_port()
    process = subprocess.Popen(
        [server_python, str(SERVER_SCRIPT), str(music_wav), str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    server = SendspinServerProcess(process)
    try:
        assert server.line() == "ready"
        yield port, server
    finally:
        process.kill()
        process.wait()


@pytest.fixture
async def http_session(socket_enabled: None) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture(scope="module")
def model() -> MoodModel:
    return load_model(BUNDLED_MODEL)


def _raw_to_monotonic_s() -> float:
    """CLOCK_MONOTONIC - CLOCK_MONOTONIC_RAW (the server's clock), from the tightest of 50 reads."""
    best: tuple[float, float] | None = None
    for _ in range(50):
        before = time.monotonic_ns()
        raw = time.clock_gettime_ns(time.CLOCK_MONOTONIC_RAW)
        after = time.monotonic_ns()
        pair = (after - before, (before + after) / 2 - raw)
        best = pair if best is None or pair < best else best
    assert best is not None
    return best[1] / 1e9


class _Tasks:
    def __init__(self) -> None:
        self.tasks: list[asyncio.Task[None]] = []

    def spawn(self, coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coroutine)
        self.tasks.append(task)
        return task


async def _live_readings(
    stream: SendspinStream, model: MoodModel
) -> tuple[np.ndarray[Any, np.dtype[np.int16]], list[Timeline], list[tuple[float, float]]]:
    """Read the stream hop by hop as the stream loop does, until the server ends it."""
    excerpts: ExcerptStream = model.info.excerpt_stream()
    received: list[np.ndarray[Any, np.dtype[np.int16]]] = []
    readings: list[Timeline] = []
    # (estimated play time on the local clock, the server's stamp of the same sample), seconds
    play_times: list[tuple[float, float]] = []
    while True:
        to_boundary = excerpts.hop_samples - excerpts.position % excerpts.hop_samples
        try:
            data = await stream.read_exactly(2 * to_boundary, timeout_s=15.0)
        except EOFError:
            break
        pcm = np.frombuffer(data, dtype="<i2")
        received.append(pcm)
        reading = timeline_step(excerpts, model, pcm)
        readings.append(reading)
        for end_sample in reading.end_samples:
            last = int(end_sample) - 1
            estimated, stamped = stream.play_time_s(last), stream.server_time_us(last)
            assert estimated is not None
            assert stamped is not None
            play_times.append((estimated, stamped / 1e6))
    return np.concatenate(received), readings, play_times


async def test_sendspin_stream_equals_offline_analysis_and_knows_when_it_plays(
    sendspin_server: tuple[int, SendspinServerProcess],
    http_session: aiohttp.ClientSession,
    music_wav: Path,
    model: MoodModel,
) -> None:
    port, server = sendspin_server
    changes: list[None] = []
    tasks = _Tasks()
    player = _test_player(http_session, port, on_change=lambda: changes.append(None))
    try:
        # Joined, but nothing plays to the player yet: waiting, not an error.
        with pytest.raises(SourceUnavailableError) as waiting:
            await player.async_resolve(SAMPLE_RATE, tasks.spawn)
        assert waiting.value.kind == "waiting_for_media"
        assert server.line() == "client music-mood-test"

        server.play()
        await wait_for(lambda: player.stream is not None, what="the stream to start")
        source = await player.async_resolve(SAMPLE_RATE, tasks.spawn)
        assert source.real_time
        hop = model.info.excerpt_stream().hop_samples
        stream = source.open(PcmFormat(SAMPLE_RATE, hop, 8 * hop))
        assert isinstance(stream, SendspinStream)
        await stream.start()
        raw_to_local_before = _raw_to_monotonic_s()
        received, live_parts, play_times = await _live_readings(stream, model)
        raw_to_local_after = _raw_to_monotonic_s()
        assert server.line() == "ended"

        # The player heard the file: the same samples, in order, none lost or added. The stream
        # loop reads whole hops, so a last partial hop stays unread; the server itself may keep
        # back the end of a file shorter than its own chunk.
        sent = _wav_samples(music_wav)
        assert sent.size - stream.received_samples < SAMPLE_RATE // 20
        assert stream.received_samples - received.size < hop
        np.testing.assert_array_equal(received, sent[: received.size])
        live = Timeline.joined(SAMPLE_RATE, live_parts)
        offline = timeline(received, model)
        assert len(live) == len(offline) > 15
        np.testing.assert_array_equal(live.end_samples, offline.end_samples)
        np.testing.assert_allclose(live.valence, offline.valence, rtol=0, atol=1e-5)
        np.testing.assert_allclose(live.arousal, offline.arousal, rtol=0, atol=1e-5)

        # Play times: the player's estimate against the server's stamp on the local clock.
        offset_s = (raw_to_local_before + raw_to_local_after) / 2
        errors_ms = np.array(
            [(estimated - (stamped + offset_s)) * 1e3 for estimated, stamped in play_times]
        )
        uncertainty_ms = (player.clock.uncertainty_us or 0.0) / 1e3
        clock_drift_ms = abs(raw_to_local_after - raw_to_local_before) * 1e3
        print(  # the measured figures, for the report (pytest -s)
            f"\nSendspin alignment over {errors_ms.size} readings: mean {errors_ms.mean():+.3f} ms,"
            f" max |error| {np.abs(errors_ms).max():.3f} ms; clock-sync bound "
            f"{uncertainty_ms:.3f} ms; raw/monotonic drift during the run {clock_drift_ms:.3f} ms"
        )
        # An NTP-style offset is off by at most half the round trip it came from.
        assert np.abs(errors_ms).max() <= uncertainty_ms + clock_drift_ms + 0.01

        # The stream ended (stream/end): waiting again, and the change was announced.
        with pytest.raises(SourceUnavailableError) as again:
            await player.async_resolve(SAMPLE_RATE, tasks.spawn)
        assert again.value.kind == "waiting_for_media"
        assert len(changes) >= 3  # connected, stream started, stream ended
    finally:
        await player.async_stop()
        for task in tasks.tasks:
            task.cancel()


async def test_sendspin_server_that_does_not_answer_is_a_source_error(
    http_session: aiohttp.ClientSession,
) -> None:
    tasks = _Tasks()
    port = free_port()  # nothing listens there
    player = SendspinPlayer(
        http_session,
        parse_server_url(f"ws://127.0.0.1:{port}/sendspin"),
        client_id="music-mood-test",
        name="Music Mood test",
        on_change=lambda: None,
    )
    try:
        with pytest.raises(SourceUnavailableError) as error:
            await player.async_resolve(SAMPLE_RATE, tasks.spawn)
        assert error.value.kind == "source_error"
        assert f"ws://127.0.0.1:{port}/sendspin" in error.value.detail
        assert player._task is not None
        assert not player._task.done()  # retrying, not dead
    finally:
        await player.async_stop()


def _sendspin_entry(port: int, **options: float) -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        title="Living room",
        unique_id=f"{SOURCE_TYPE_SENDSPIN}:ws://127.0.0.1:{port}/sendspin",
        data={
            CONF_ENTRY_KIND: ENTRY_KIND_ANALYSER,
            CONF_SOURCE_TYPE: SOURCE_TYPE_SENDSPIN,
            CONF_SOURCE: f"ws://127.0.0.1:{port}/sendspin",
            CONF_MODEL: DEFAULT_MODEL_ID,
        },
        options={CONF_SMOOTHING_S: 1.0, CONF_SILENCE_DURATION_S: 1.0, **options},
    )


ANALYSER_STATUS = "sensor.living_room_analyser_status"


async def _joined_analyser(
    hass: HomeAssistant, port: int, server: SendspinServerProcess, **options: float
) -> tuple[MockConfigEntry, AnalyserCoordinator, SendspinPlayer]:
    """A Sendspin analyser set up, joined to the server as a player and waiting for media."""
    entry = _sendspin_entry(port, **options)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await wait_for(
        lambda: hass.states.get(ANALYSER_STATUS).state == "waiting_for_media", what="waiting"
    )
    assert server.line() == f"client music-mood-{entry.entry_id}"  # Music Assistant's player id
    coordinator = entry.runtime_data.coordinator
    player = coordinator.source.sendspin
    assert player is not None
    return entry, coordinator, player


@dataclass(frozen=True)
class Published:
    """A reading as the coordinator published it, on the event loop's clock."""

    reading: MoodReading
    at: float  # when it was published
    heard: float  # when the last sample it describes plays


def _record_published(
    coordinator: AnalyserCoordinator, player: SendspinPlayer
) -> tuple[list[Published], Callable[[], None]]:
    """Every new reading the coordinator publishes, with its play time; and the unsubscribe."""
    loop = asyncio.get_running_loop()
    published: list[Published] = []

    def record() -> None:
        reading = coordinator.data
        if reading is None or (
            published and published[-1].reading.end_sample == reading.end_sample
        ):
            return
        stream = player.stream
        assert stream is not None
        heard = stream.play_time_s(reading.end_sample - 1)
        assert heard is not None
        published.append(Published(reading, loop.time(), heard + 1 / SAMPLE_RATE))

    return published, coordinator.async_add_listener(record)


async def test_analyser_on_a_sendspin_player_publishes_each_reading_when_it_is_heard(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    sendspin_server: tuple[int, SendspinServerProcess],
    music_wav: Path,
    model: MoodModel,
) -> None:
    port, server = sendspin_server
    entry, coordinator, player = await _joined_analyser(hass, port, server)
    status = ANALYSER_STATUS
    published, unsubscribe = _record_published(coordinator, player)
    server.play()
    await wait_for(lambda: len(published) >= 12, timeout_s=30.0, what="twelve readings")
    unsubscribe()
    sendspin = (await get_diagnostics_for_config_entry(hass, hass_client, entry))["sendspin"]
    assert sendspin["connected"] is True
    assert sendspin["stream"]["sample_rate"] == SAMPLE_RATE
    assert sendspin["clock_uncertainty_ms"] is not None
    await wait_for(lambda: hass.states.get(status).state == "waiting_for_media", timeout_s=30.0)
    assert server.line() == "ended"
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert not player.connected

    # The readings are the model's on the file's samples (the same PCM offline).
    offline = timeline(_wav_samples(music_wav), model)
    by_end = {int(end): i for i, end in enumerate(offline.end_samples)}
    for item in published:
        i = by_end[item.reading.end_sample]
        assert abs(item.reading.raw_valence - float(offline.valence[i])) <= 1e-5
        assert abs(item.reading.raw_arousal - float(offline.arousal[i])) <= 1e-5
    # Each reading is published once its audio is heard, not when it arrived (a second ahead).
    lateness_ms = np.array([(item.at - item.heard) * 1e3 for item in published])
    print(
        f"\nSendspin analyser: {lateness_ms.size} readings published {lateness_ms.mean():.1f} ms "
        f"(min {lateness_ms.min():.1f}, max {lateness_ms.max():.1f}) after their audio is heard"
    )
    assert lateness_ms.min() >= -1.0  # never before (timer resolution aside)


ADVANCE_S = 0.5
# asyncio may fire a timer up to its clock resolution early; the queue's clock is the loop's.
TIMER_TOLERANCE_S = 0.02


async def test_a_negative_delay_publishes_sendspin_readings_before_their_audio_is_heard(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    sendspin_server: tuple[int, SendspinServerProcess],
) -> None:
    """Delay -0.5 s: each reading is released 0.5 s before its play time, or when it is made if
    that is later; never before it is made, never earlier than the advance, always in order."""
    port, server = sendspin_server
    entry, coordinator, player = await _joined_analyser(
        hass, port, server, **{CONF_DELAY_S: -ADVANCE_S}
    )
    status = ANALYSER_STATUS
    loop = asyncio.get_running_loop()
    made_at: dict[int, float] = {}  # end sample -> when the stream loop made the reading
    hand_over = coordinator.stream._on_reading

    def note_made(reading: MoodReading) -> None:
        made_at[reading.end_sample] = loop.time()
        hand_over(reading)

    coordinator.stream._on_reading = note_made
    published, unsubscribe = _record_published(coordinator, player)
    server.play()
    await wait_for(lambda: len(published) >= 12, timeout_s=30.0, what="twelve readings")
    unsubscribe()
    delay = (await get_diagnostics_for_config_entry(hass, hass_client, entry))["pipeline"]["delay"]
    await wait_for(lambda: hass.states.get(status).state == "waiting_for_media", timeout_s=30.0)
    assert server.line() == "ended"
    assert await hass.config_entries.async_unload(entry.entry_id)

    assert (delay["hold_s"], delay["advance_s"], delay["unreachable_s"]) == (0.0, ADVANCE_S, 0.0)
    ends = [item.reading.end_sample for item in published]
    assert ends == sorted(ends)
    made = [made_at[end] for end in ends]
    in_time = [
        item for item, at in zip(published, made, strict=True) if at <= item.heard - ADVANCE_S
    ]
    for item, made_then in zip(published, made, strict=True):
        assert item.at >= made_then  # never before it exists
        # Never earlier than the advance.
        assert item.at >= item.heard - ADVANCE_S - TIMER_TOLERANCE_S
    # The server sends audio about a second before it plays, so most readings are made in time
    # for the whole advance; those are published well before their audio is heard.
    assert len(in_time) >= len(published) - 2
    for item in in_time:
        assert item.at <= item.heard - 0.3
    # What came too late is counted where an administrator looks, not hidden.
    assert delay["late_readings"] <= len(published) - len(in_time) + 1
    earliness_ms = np.array([(item.heard - item.at) * 1e3 for item in published])
    print(
        f"\nSendspin analyser at delay -{ADVANCE_S} s: {earliness_ms.size} readings published "
        f"{earliness_ms.mean():.1f} ms (min {earliness_ms.min():.1f}, max "
        f"{earliness_ms.max():.1f}) before their audio is heard; late: {delay['late_readings']}"
    )


async def test_flow_joins_the_server_once_before_creating_the_entry(
    hass: HomeAssistant, sendspin_server: tuple[int, SendspinServerProcess]
) -> None:
    port, server = sendspin_server
    result = await analyser_source_step(
        hass, SOURCE_TYPE_SENDSPIN, {CONF_SOURCE: f"WS://127.0.0.1:{port}/"}, model=DEFAULT_MODEL_ID
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_SOURCE] == f"ws://127.0.0.1:{port}/sendspin"
    assert server.line() == "client music-mood-setup-check"


def _music_assistant(hass: HomeAssistant, url: str) -> None:
    MockConfigEntry(domain="music_assistant", data={"url": url}).add_to_hass(hass)


@pytest.mark.parametrize(
    ("servers", "address", "error"),
    [
        ([], "http://127.0.0.1:8927", "invalid_source"),
        ([], "ws://user:pw@127.0.0.1:8927", "invalid_source"),
        ([], "", "invalid_source"),  # no Music Assistant server to take the address from
        (["http://a:8095", "http://b:8095"], "", "invalid_source"),  # which one?
        (["http://user:pw@ma.local:8095"], "", "invalid_source"),
        (["http://127.0.0.1:8095"], "", "cannot_connect"),  # ws://127.0.0.1:8927: nobody there
    ],
)
async def test_flow_refuses_addresses_and_servers_it_cannot_use(
    hass: HomeAssistant, socket_enabled: None, servers: list[str], address: str, error: str
) -> None:
    for url in servers:
        _music_assistant(hass, url)
    result = await analyser_source_step(
        hass, SOURCE_TYPE_SENDSPIN, {CONF_SOURCE: address}, model=DEFAULT_MODEL_ID
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_SOURCE: error}


SERVER_HELLO = (
    '{"type": "server/hello", "payload": {"server_id": "s", "name": "s", "version": 1,'
    ' "active_roles": ["player@v1"], "connection_reason": "playback"}}'
)


@contextlib.asynccontextmanager
async def _scripted_server(
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
) -> AsyncIterator[int]:
    """A minimal websocket server on a free local port: its /sendspin plays ``handler``'s script."""
    app = web.Application()
    app.router.add_get("/sendspin", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield port
    finally:
        await runner.cleanup()


def _test_player(
    http_session: aiohttp.ClientSession, port: int, *, on_change: Callable[[], None]
) -> SendspinPlayer:
    return SendspinPlayer(
        http_session,
        parse_server_url(f"ws://127.0.0.1:{port}"),
        client_id="music-mood-test",
        name="Music Mood test",
        on_change=on_change,
    )


async def test_flow_refuses_a_websocket_that_is_not_a_sendspin_server(
    hass: HomeAssistant, socket_enabled: None
) -> None:
    async def not_sendspin(request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        await socket.receive()
        await socket.send_str('{"type": "server/error", "payload": {"reason": "nope"}}')
        await socket.close()
        return socket

    async with _scripted_server(not_sendspin) as port:
        result = await analyser_source_step(
            hass,
            SOURCE_TYPE_SENDSPIN,
            {CONF_SOURCE: f"ws://127.0.0.1:{port}"},
            model=DEFAULT_MODEL_ID,
        )
    assert result["errors"] == {CONF_SOURCE: "cannot_connect"}


async def test_a_stream_in_a_format_not_offered_is_unsupported_media_not_an_outage(
    http_session: aiohttp.ClientSession,
) -> None:
    """A server (here a minimal one) that streams 48 kHz although 22.05 kHz was offered."""
    hello_seen = asyncio.Event()

    async def server(request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        await socket.receive()  # client/hello
        hello_seen.set()
        await socket.send_str(SERVER_HELLO)
        await socket.send_str(
            '{"type": "stream/start", "payload": {"player": {"codec": "pcm",'
            ' "sample_rate": 48000, "channels": 2, "bit_depth": 16}}}'
        )
        async for _ in socket:  # keep the connection while the player talks
            pass
        return socket

    tasks = _Tasks()
    changes: list[None] = []
    async with _scripted_server(server) as port:
        player = _test_player(http_session, port, on_change=lambda: changes.append(None))
        try:
            player.ensure_running(SAMPLE_RATE, tasks.spawn)
            await hello_seen.wait()
            await wait_for(lambda: len(changes) >= 2, what="connected, then the stream refused")
            with pytest.raises(SourceUnavailableError) as refused:
                await player.async_resolve(SAMPLE_RATE, tasks.spawn)
            assert refused.value.kind == "unsupported_media"
            assert "48000 Hz" in refused.value.detail
            assert player.connected  # the connection stays: the next stream may be usable
        finally:
            await player.async_stop()


async def test_a_stream_that_stops_sending_is_a_stall_with_a_reason(
    http_session: aiohttp.ClientSession,
) -> None:
    """A server (here a minimal one) that starts a stream, sends one chunk and goes quiet."""

    async def server(request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        await socket.receive()  # client/hello
        await socket.send_str(SERVER_HELLO)
        await socket.send_str(
            '{"type": "stream/start", "payload": {"player": {"codec": "pcm",'
            f' "sample_rate": {SAMPLE_RATE}, "channels": 1, "bit_depth": 16}}}}}}'
        )
        await socket.send_bytes(struct.pack(">Bq", 4, 1_000_000) + b"\x01\x00" * 100)
        async for _ in socket:
            pass
        return socket

    tasks = _Tasks()
    async with _scripted_server(server) as port:
        player = _test_player(http_session, port, on_change=lambda: None)
        try:
            player.ensure_running(SAMPLE_RATE, tasks.spawn)
            await wait_for(lambda: player.stream is not None and player.stream.received_samples > 0)
            source = await player.async_resolve(SAMPLE_RATE, tasks.spawn)
            stream = source.open(PcmFormat(SAMPLE_RATE, 1000, 8000))
            await stream.start()
            assert await stream.read_exactly(200, timeout_s=5.0) == b"\x01\x00" * 100
            with pytest.raises(TimeoutError, match=r"no audio from the Sendspin server for 0\.2 s"):
                await stream.read_exactly(2, timeout_s=0.2)
        finally:
            await player.async_stop()
