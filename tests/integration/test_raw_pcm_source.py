"""Raw-PCM sources in Home Assistant: the flow's checks, and analysers on a real FIFO and UDP port.

A FIFO in an allow-listed folder, written by a player thread (or by Debian's snapclient in the
Snapcast test), and a UDP port fed by a real ffmpeg sender: readings equal the offline timeline of
the same bytes, a FIFO nobody writes to is "waiting for media", a writer restart is an outage
that heals, and the delay option holds readings back.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from pytest_homeassistant_custom_component.common import MockConfigEntry

import custom_components.music_mood.analyser as analyser
from custom_components.music_mood.const import (
    CONF_DELAY_S,
    CONF_ENTRY_KIND,
    CONF_LOOP_FILE,
    CONF_MODEL,
    CONF_PCM_CHANNELS,
    CONF_PCM_SAMPLE_FORMAT,
    CONF_PCM_SAMPLE_RATE,
    CONF_SILENCE_DURATION_S,
    CONF_SILENCE_THRESHOLD_DB,
    CONF_SMOOTHING_S,
    CONF_SOURCE,
    CONF_SOURCE_TYPE,
    DOMAIN,
    ENTRY_KIND_ANALYSER,
    SOURCE_TYPE_RAW_PCM_PIPE,
    SOURCE_TYPE_RAW_PCM_UDP,
)
from custom_components.music_mood.music_mood_core.audio import ffmpeg_pcm_command
from custom_components.music_mood.music_mood_core.model import load_model
from custom_components.music_mood.music_mood_core.raw_pcm_format import parse_format
from custom_components.music_mood.music_mood_core.stream_loop import MoodReading
from custom_components.music_mood.music_mood_core.timeline import Timeline, timeline
from tests.raw_pcm_players import chords_s16le, stop_process, write_into

from .assets import FIXTURE_MODELS, TEST_MODEL, TEST_MODEL_ID
from .flows import analyser_source_step
from .processes import free_port, wait_for

STATUS = "sensor.living_room_analyser_status"
VALENCE = "sensor.living_room_valence"
STEREO_48K = parse_format("48000:s16le:2")
MIC_16K = parse_format("16000:s16le:1")


@pytest.fixture
def audio_dir(hass: HomeAssistant, tmp_path: Path) -> Path:
    """An allow-listed folder for FIFOs; a config folder holding the test model."""
    folder = tmp_path / "audio"
    folder.mkdir()
    hass.config.allowlist_external_dirs = {str(folder)}
    config_dir = tmp_path / "config"
    (config_dir / "music_mood").mkdir(parents=True)
    shutil.copy(FIXTURE_MODELS / TEST_MODEL, config_dir / "music_mood" / TEST_MODEL)
    hass.config.config_dir = str(config_dir)
    return folder


@pytest.fixture
def quick_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    """Silence from a source is noticed within seconds, back-off in fractions of one.

    (Not shorter: a hop is half a second of audio, and ffmpeg must start on a busy machine.)
    """
    monkeypatch.setattr(analyser, "SOURCE_PROBE_TIMEOUT_S", 2.0)
    monkeypatch.setattr(analyser, "STALL_TIMEOUT_S", 3.0)
    monkeypatch.setattr(analyser, "RESTART_BACKOFF_MIN_S", 0.2)
    monkeypatch.setattr(analyser, "RESTART_BACKOFF_MAX_S", 0.5)


def offline_timeline(hass: HomeAssistant, data: bytes, pcm_format_text: str, tmp: Path) -> Timeline:
    """The analyze path on the same bytes: ffmpeg decodes them from a file, one timeline."""
    model = load_model(Path(hass.config.path("music_mood")) / TEST_MODEL)
    raw = tmp / f"offline-{uuid.uuid4().hex[:6]}.raw"
    raw.write_bytes(data)
    command = ffmpeg_pcm_command(
        f"file:{raw}",
        int(model.info.sample_rate),
        input_options=parse_format(pcm_format_text).ffmpeg_input_options(),
    )
    pcm = subprocess.run(command, capture_output=True, check=True, timeout=60).stdout
    return timeline(np.frombuffer(pcm, dtype="<i2"), model)


def raw_pcm_entry(
    source_type: str, source: str, pcm_format_text: str, **options: object
) -> MockConfigEntry:
    pcm_format = parse_format(pcm_format_text)
    return MockConfigEntry(
        domain=DOMAIN,
        title="Living room",
        unique_id=f"{source_type}:{source}",
        data={
            CONF_ENTRY_KIND: ENTRY_KIND_ANALYSER,
            CONF_SOURCE_TYPE: source_type,
            CONF_SOURCE: source,
            CONF_PCM_SAMPLE_RATE: pcm_format.sample_rate,
            CONF_PCM_CHANNELS: pcm_format.channels,
            CONF_PCM_SAMPLE_FORMAT: pcm_format.sample_format,
            CONF_MODEL: TEST_MODEL_ID,
        },
        options={
            CONF_SMOOTHING_S: 1.0,
            CONF_SILENCE_THRESHOLD_DB: -50.0,
            CONF_SILENCE_DURATION_S: 1.0,
            CONF_LOOP_FILE: False,
        }
        | options,
    )


def record_readings(entry: MockConfigEntry) -> list[MoodReading]:
    coordinator = entry.runtime_data.coordinator
    readings: list[MoodReading] = []

    def record() -> None:
        reading = coordinator.data
        if reading is not None and (not readings or readings[-1] is not reading):
            readings.append(reading)

    entry.async_on_unload(coordinator.async_add_listener(record))
    return readings


def assert_equal_to_offline(readings: list[MoodReading], expected: Timeline) -> None:
    by_end = {int(end): index for index, end in enumerate(expected.end_samples)}
    assert readings, "no reading was published"
    for reading in readings:
        index = by_end[reading.end_sample]
        assert abs(reading.raw_valence - expected.valence[index]) <= 1e-5
        assert abs(reading.raw_arousal - expected.arousal[index]) <= 1e-5


# ---------------------------------------------------------------------------- the flow


def _form(source: str, rate: float = 48000.0, channels: str = "2", sample_format: str = "s16le"):
    # As the frontend sends them: the number box a float, the channel select a string.
    return {
        CONF_SOURCE: source,
        CONF_PCM_SAMPLE_RATE: rate,
        CONF_PCM_CHANNELS: channels,
        CONF_PCM_SAMPLE_FORMAT: sample_format,
    }


async def test_the_pipe_flow_creates_an_analyser_with_the_declared_format(
    hass: HomeAssistant, audio_dir: Path
) -> None:
    fifo = audio_dir / "snapfifo"
    os.mkfifo(fifo)
    result = await analyser_source_step(
        hass, SOURCE_TYPE_RAW_PCM_PIPE, _form(str(fifo), 44100.0, "1", "f32le")
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {
        CONF_ENTRY_KIND: ENTRY_KIND_ANALYSER,
        CONF_SOURCE_TYPE: SOURCE_TYPE_RAW_PCM_PIPE,
        CONF_SOURCE: str(fifo),
        CONF_PCM_SAMPLE_RATE: 44100,
        CONF_PCM_CHANNELS: 1,
        CONF_PCM_SAMPLE_FORMAT: "f32le",
        CONF_MODEL: TEST_MODEL_ID,
    }


@pytest.mark.parametrize(
    ("where", "error", "says"),
    [
        ("outside", "path_not_allowed", "/"),
        ("relative", "invalid_source", "absolute path"),
        ("folder", "invalid_source", "neither a FIFO"),
        ("missing", "file_not_found", "missing.fifo"),
    ],
)
async def test_the_pipe_flow_refuses_paths_it_may_not_or_cannot_read(
    hass: HomeAssistant, audio_dir: Path, tmp_path: Path, where: str, error: str, says: str
) -> None:
    paths = {
        "outside": tmp_path / "outside.fifo",
        "relative": Path("snapfifo"),
        "folder": audio_dir,
        "missing": audio_dir / "missing.fifo",
    }
    if where == "outside":
        os.mkfifo(paths["outside"])
    result = await analyser_source_step(hass, SOURCE_TYPE_RAW_PCM_PIPE, _form(str(paths[where])))
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_SOURCE: error}
    assert says in result["description_placeholders"]["detail"]


@pytest.mark.parametrize(
    ("field", "value"),
    [(CONF_PCM_SAMPLE_RATE, 96000.0), (CONF_PCM_CHANNELS, "3"), (CONF_PCM_SAMPLE_FORMAT, "s24le")],
)
async def test_a_format_outside_the_grammar_cannot_be_submitted(
    hass: HomeAssistant, audio_dir: Path, field: str, value: object
) -> None:
    fifo = audio_dir / "snapfifo"
    os.mkfifo(fifo)
    with pytest.raises(InvalidData):
        await analyser_source_step(
            hass, SOURCE_TYPE_RAW_PCM_PIPE, _form(str(fifo)) | {field: value}
        )
    assert not hass.config_entries.async_entries(DOMAIN)


async def test_the_udp_flow_takes_a_free_local_port(
    hass: HomeAssistant, audio_dir: Path, socket_enabled: None
) -> None:
    port = free_port()
    result = await analyser_source_step(
        hass, SOURCE_TYPE_RAW_PCM_UDP, _form(f" 127.0.0.1:{port} ", 16000.0, "1")
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_SOURCE] == f"127.0.0.1:{port}"
    assert result["data"][CONF_PCM_SAMPLE_RATE] == 16000


@pytest.mark.parametrize(
    ("address", "error", "says"),
    [
        ("localhost:5004", "invalid_source", "not a name"),
        ("esp32-mic.local:5004", "invalid_source", "not a name"),
        ("127.0.0.1:80", "invalid_source", "1024 to 65535"),
        ("239.0.0.1:5004", "invalid_source", "multicast"),
        ("127.0.0.1", "invalid_source", "ADDRESS:PORT"),
        ("192.0.2.1:5004", "cannot_listen", "not one of this machine's"),
        ("taken", "cannot_listen", "cannot listen on udp 127.0.0.1:"),
    ],
)
async def test_the_udp_flow_refuses_names_privileged_ports_and_taken_ports(
    hass: HomeAssistant, audio_dir: Path, socket_enabled: None, address: str, error: str, says: str
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        if address == "taken":
            address = f"127.0.0.1:{taken.getsockname()[1]}"
        result = await analyser_source_step(
            hass, SOURCE_TYPE_RAW_PCM_UDP, _form(address, 16000.0, "1")
        )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_SOURCE: error}
    assert says in result["description_placeholders"]["detail"]


async def test_the_delay_option_accepts_minus_two_to_five_seconds(
    hass: HomeAssistant, audio_dir: Path
) -> None:
    fifo = audio_dir / "snapfifo"
    os.mkfifo(fifo)
    entry = raw_pcm_entry(SOURCE_TYPE_RAW_PCM_PIPE, str(fifo), STEREO_48K.text)
    entry.add_to_hass(hass)
    for value, accepted in ((-2.5, False), (5.5, False), (-2.0, True), (1.5, True)):
        result = await hass.config_entries.options.async_init(entry.entry_id)
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {"next_step_id": "pipeline"}
        )
        current = dict(entry.options) | {CONF_DELAY_S: value}
        if not accepted:
            with pytest.raises(InvalidData):
                await hass.config_entries.options.async_configure(result["flow_id"], current)
            continue
        result = await hass.config_entries.options.async_configure(result["flow_id"], current)
        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert entry.options[CONF_DELAY_S] == value
        assert analyser.analyser_settings(entry).delay_s == value


# ---------------------------------------------------------------------------- live analysers


async def test_a_fifo_analyser_waits_then_reads_exactly_and_heals_after_a_writer_restart(
    hass: HomeAssistant,
    audio_dir: Path,
    quick_waiting: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Ten minutes of back-off: only a writer's first bytes can start the next stream, so each
    # stream reads a writer's audio from its first byte (no attempt timing out as it arrives).
    monkeypatch.setattr(analyser, "RESTART_BACKOFF_MIN_S", 600.0)
    monkeypatch.setattr(analyser, "RESTART_BACKOFF_MAX_S", 600.0)
    fifo = audio_dir / "snapfifo"
    os.mkfifo(fifo)
    entry = raw_pcm_entry(SOURCE_TYPE_RAW_PCM_PIPE, str(fifo), STEREO_48K.text)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    readings = record_readings(entry)
    # Nobody writes yet: the player is not playing, which is no outage.
    await wait_for(lambda: hass.states.get(STATUS).state == "waiting_for_media", what="waiting")
    assert (
        hass.states.get(STATUS)
        .attributes["detail"]
        .startswith(f"waiting for audio: nothing has arrived from {fifo}")
    )
    assert hass.states.get(VALENCE).state == STATE_UNAVAILABLE
    coordinator = entry.runtime_data.coordinator
    assert coordinator.stats.restarts == 0

    first = chords_s16le(6.0, seed=1)
    writer = write_into(fifo, first)
    await wait_for(lambda: coordinator.stats.restarts >= 1, 30, "the first writer's end")
    writer.join()
    heard_first = list(readings)
    assert_equal_to_offline(heard_first, offline_timeline(hass, first, STEREO_48K.text, tmp_path))

    # The player restarts: a new writer opens the FIFO; the analyser reopened it and hears it.
    second = chords_s16le(5.0, seed=2)
    writer = write_into(fifo, second)
    await wait_for(lambda: coordinator.stats.restarts >= 2, 30, "the second writer's end")
    writer.join()
    heard_second = readings[len(heard_first) :]
    assert_equal_to_offline(heard_second, offline_timeline(hass, second, STEREO_48K.text, tmp_path))
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert entry.state is ConfigEntryState.NOT_LOADED


async def test_a_udp_analyser_hears_a_real_ffmpeg_sender_exactly(
    hass: HomeAssistant,
    audio_dir: Path,
    quick_waiting: None,
    socket_enabled: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Only the first datagram can start the stream that hears the sender (see the FIFO test).
    monkeypatch.setattr(analyser, "RESTART_BACKOFF_MIN_S", 600.0)
    monkeypatch.setattr(analyser, "RESTART_BACKOFF_MAX_S", 600.0)
    port = free_port()
    entry = raw_pcm_entry(SOURCE_TYPE_RAW_PCM_UDP, f"127.0.0.1:{port}", MIC_16K.text)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    readings = record_readings(entry)
    await wait_for(lambda: hass.states.get(STATUS).state == "waiting_for_media", what="waiting")

    generator = "sine=frequency=330:sample_rate=16000:duration=6"
    sent = tmp_path / "sent.raw"
    # What the sender sends, written to a file by the same generator.
    writer = await asyncio.create_subprocess_exec(
        "ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", generator,
        "-af", "volume=0.5", "-ac", "1", "-f", "s16le", f"file:{sent}",
    )  # fmt: skip
    assert await writer.wait() == 0
    sender = await asyncio.create_subprocess_exec(
        "ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-f", "lavfi", "-i", generator,
        "-af", "volume=0.5", "-ac", "1", "-f", "s16le", f"udp://127.0.0.1:{port}?pkt_size=640",
    )  # fmt: skip
    try:
        await wait_for(lambda: len(readings) >= 4, 30, "four readings")
        assert await sender.wait() == 0
    finally:
        if sender.returncode is None:
            sender.kill()
            await sender.wait()
    assert hass.states.get(VALENCE).state != STATE_UNAVAILABLE
    assert_equal_to_offline(
        readings, offline_timeline(hass, sent.read_bytes(), MIC_16K.text, tmp_path)
    )
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()  # a datagram transport closes its socket on the next turn
    # The port is given back with the analyser.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as again:
        again.bind(("127.0.0.1", port))


async def test_the_delay_option_holds_each_reading_back_behind_the_stream(
    hass: HomeAssistant, audio_dir: Path, quick_waiting: None
) -> None:
    """A regular raw file is paced like a stream; +1.5 s holds every reading three hops back."""
    recording = audio_dir / "recording.raw"
    recording.write_bytes(chords_s16le(9.0, seed=3))
    entry = raw_pcm_entry(
        SOURCE_TYPE_RAW_PCM_PIPE, str(recording), STEREO_48K.text, **{CONF_DELAY_S: 1.5}
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    coordinator = entry.runtime_data.coordinator
    produced_when_published: list[tuple[int, int]] = []

    def record() -> None:
        if coordinator.data is not None:
            produced_when_published.append(
                (coordinator.stats.readings, coordinator.data.end_sample)
            )

    unsubscribe = coordinator.async_add_listener(record)
    await wait_for(lambda: len(produced_when_published) >= 6, 40, "six published readings")
    unsubscribe()
    assert await hass.config_entries.async_unload(entry.entry_id)
    hop = round(coordinator.hop_seconds * 22050)
    first_end = produced_when_published[0][1]
    for produced, end_sample in produced_when_published:
        published_index = (end_sample - first_end) // hop + 1
        # 1.5 s at a paced 0.5 s hop: the loop was at least two readings further on.
        assert produced >= published_index + 2


async def test_a_negative_delay_on_a_fifo_is_reported_unreachable(
    hass: HomeAssistant, audio_dir: Path, quick_waiting: None
) -> None:
    fifo = audio_dir / "snapfifo"
    os.mkfifo(fifo)
    entry = raw_pcm_entry(
        SOURCE_TYPE_RAW_PCM_PIPE, str(fifo), STEREO_48K.text, **{CONF_DELAY_S: -1.0}
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    coordinator = entry.runtime_data.coordinator
    await wait_for(lambda: coordinator.stats.ffmpeg_starts >= 1, what="the first stream")
    plan = coordinator.stream.delay_plan
    assert (plan.hold_s, plan.read_ahead_s, plan.unreachable_s) == (0.0, 0.0, 1.0)
    # Said where an administrator looks: the entry's diagnostics.
    assert entry.runtime_data.diagnostics()["pipeline"]["delay"] == {
        "hold_s": 0.0,
        "read_ahead_s": 0.0,
        "advance_s": 0.0,
        "unreachable_s": 1.0,
        "late_readings": 0,
        "last_late_s": None,
    }
    assert await hass.config_entries.async_unload(entry.entry_id)


# ---------------------------------------------------------------------------- Snapcast


@pytest.fixture
def snapcast(audio_dir: Path, tmp_path: Path, socket_enabled: None) -> Iterator[tuple[Path, Path]]:
    """snapserver (pipe source) and snapclient writing into a FIFO in the allow-listed folder."""
    if shutil.which("snapserver") is None or shutil.which("snapclient") is None:
        pytest.skip(
            "needs Debian's snapserver and snapclient (apt-get install snapserver snapclient; "
            "scripts/test.sh installs them when run as root)"
        )
    feed, output = tmp_path / "snapserver.fifo", audio_dir / "snapclient.fifo"
    os.mkfifo(output)
    (tmp_path / "snapserver.conf").write_text("")
    stream_port = free_port()
    quiet = {
        "stdin": subprocess.DEVNULL,
        "stdout": subprocess.DEVNULL,
        "stderr": subprocess.DEVNULL,
    }
    server = subprocess.Popen(
        ["snapserver", "-c", str(tmp_path / "snapserver.conf"), f"--server.datadir={tmp_path}",
         "--http.enabled=false", f"--tcp.port={free_port()}",
         "--tcp.bind_to_address=127.0.0.1", f"--stream.port={stream_port}",
         "--stream.bind_to_address=127.0.0.1", "--stream.codec=pcm",
         f"--stream.source=pipe://{feed}?name=default&mode=create", "--logging.sink=null"],
        **quiet,
    )  # fmt: skip
    processes = [server]
    try:
        for _ in range(400):
            if feed.exists():
                break
            threading.Event().wait(0.05)
        host_id = f"music-mood-{uuid.uuid4().hex[:8]}"
        client = ["snapclient", "-h", "127.0.0.1", "-p", str(stream_port),
                  "--player", f"file:filename={output}", "--mixer", "none",
                  "--hostID", host_id, "--logsink", "null"]  # fmt: skip
        processes.append(subprocess.Popen(client, **quiet))
        yield feed, output
    finally:
        for process in reversed(processes):
            stop_process(process)


async def test_an_analyser_on_snapclients_fifo_publishes_readings(
    hass: HomeAssistant, snapcast: tuple[Path, Path], quick_waiting: None
) -> None:
    feed, output = snapcast
    entry = raw_pcm_entry(SOURCE_TYPE_RAW_PCM_PIPE, str(output), STEREO_48K.text)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    readings = record_readings(entry)
    writer = write_into(feed, chords_s16le(8.0, seed=4))
    await wait_for(lambda: len(readings) >= 8, 40, "eight readings from snapclient's FIFO")
    assert hass.states.get(STATUS).state == "running"
    assert hass.states.get(VALENCE).state != STATE_UNAVAILABLE
    assert any(reading.playing for reading in readings)
    assert await hass.config_entries.async_unload(entry.entry_id)
    writer.join(timeout=30)
