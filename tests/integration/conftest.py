"""Real parts for the analyser tests: short CC clips, fixture models, an HTTP audio server."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Awaitable, Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
from homeassistant.core import HomeAssistant

import custom_components.music_mood.analyser as analyser
from tests.data_paths import require_data

from .assets import CLIP, FIXTURE_MODELS, STREAM_SERVER, TEST_MODEL
from .processes import ffmpeg_children, free_port


@pytest.fixture
def fast_restarts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Back-off and stall detection in fractions of a second, so recoveries fit in a test."""
    monkeypatch.setattr(analyser, "RESTART_BACKOFF_MIN_S", 0.2)
    monkeypatch.setattr(analyser, "RESTART_BACKOFF_MAX_S", 0.5)
    monkeypatch.setattr(analyser, "STALL_TIMEOUT_S", 1.5)


@pytest.fixture
def fast_model_check(monkeypatch: pytest.MonkeyPatch) -> float:
    """The model file is looked at every 0.2 s instead of every 30 s (real time, real timer)."""
    monkeypatch.setattr(analyser, "MODEL_CHECK_INTERVAL_S", 0.2)
    return 0.2


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Every test here loads the integration from custom_components/."""


def _cut(
    target: Path,
    start_s: float,
    duration_s: float,
    *,
    silence_after_s: float = 0.0,
    channels: int = 1,
    sample_rate: int = 22050,
) -> Path:
    """A WAV excerpt of the real CC clip (optionally followed by digital silence)."""
    require_data(CLIP)
    command = [
        "ffmpeg",
        "-nostdin",
        "-loglevel",
        "error",
        "-y",
        "-ss",
        str(start_s),
        "-t",
        str(duration_s),
    ]
    command += ["-i", str(CLIP)]
    if silence_after_s:
        command += ["-af", f"apad=pad_dur={silence_after_s}"]
    command += ["-ac", str(channels), "-ar", str(sample_rate), "-c:a", "pcm_s16le", str(target)]
    subprocess.run(command, check=True)
    return target


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("clips")
    return {
        "short": _cut(folder / "short.wav", 20.0, 6.0),
        "music_then_silence": _cut(
            folder / "music_then_silence.wav", 20.0, 4.0, silence_after_s=4.0
        ),
        # Stereo at 44.1 kHz: the live path must downmix and resample exactly like decode_file.
        "stereo_44k": _cut(folder / "stereo_44k.wav", 40.0, 8.0, channels=2, sample_rate=44100),
    }


@pytest.fixture
def media_dir(hass: HomeAssistant, tmp_path: Path, clips: dict[str, Path]) -> Path:
    """An allow-listed media folder holding the clips; a config dir holding the test model."""
    media = tmp_path / "media"
    media.mkdir()
    for name, clip in clips.items():
        shutil.copy(clip, media / f"{name}.wav")
    hass.config.allowlist_external_dirs = {str(media)}
    config_dir = tmp_path / "config"
    (config_dir / "music_mood").mkdir(parents=True)
    shutil.copy(FIXTURE_MODELS / TEST_MODEL, config_dir / "music_mood" / TEST_MODEL)
    hass.config.config_dir = str(config_dir)
    return media


class StreamServer:
    """The HTTP audio server as a child process that a test may kill and start again."""

    def __init__(self, wav: Path, *, pace: bool, loop: bool) -> None:
        self.port = free_port()
        self._arguments = [sys.executable, str(STREAM_SERVER), str(wav), str(self.port)]
        self._arguments += ["--pace"] * pace + ["--loop"] * loop
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/stream.wav"

    def start(self) -> None:
        self._process = subprocess.Popen(self._arguments, stdout=subprocess.PIPE)
        assert self._process.stdout is not None
        assert self._process.stdout.readline().strip() == b"ready"

    def stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None


@pytest.fixture
def stream_server(socket_enabled: None) -> Iterator[Callable[..., StreamServer]]:
    servers: list[StreamServer] = []

    def start(wav: Path, *, pace: bool = True, loop: bool = True) -> StreamServer:
        server = StreamServer(wav, pace=pace, loop=loop)
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def no_ffmpeg_left() -> Generator[None]:
    yield
    assert ffmpeg_children() == []


AsyncCallable = Callable[..., Awaitable[Any]]
