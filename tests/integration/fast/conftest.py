"""The fast tier: Home Assistant with the integration set up on generated PCM instead of ffmpeg.

Fixtures in the style of Home Assistant's own integration tests: ``mock_config_entry`` (an
analyser) and ``mock_strip_entry`` (a serial strip on a socat pty), ``init_integration`` /
``init_strip`` to set them up (parametrize ``init_integration`` indirectly with a platform to set
up only that one), and ``generated_pcm``, the PCM source the analyser's stream loop reads.
Everything after the decoder is real: the fixture ONNX model, features, the coordinator, the
entities, the serial port. Time is the freezer's, never a real wait: the set-up fixtures start
the freezer first, because timers scheduled on the real clock would all fire at once when it starts.
"""

from __future__ import annotations

import dataclasses
import shutil
import wave
from collections.abc import Iterator
from pathlib import Path
from unittest.mock import PropertyMock, patch

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

import custom_components.music_mood as music_mood
from custom_components.music_mood import coordinator as coordinator_module
from custom_components.music_mood.const import (
    CONF_BAUDRATE,
    CONF_ENTRY_KIND,
    CONF_KEEPALIVE_S,
    CONF_LED_COUNT,
    CONF_LOOP_FILE,
    CONF_MODEL,
    CONF_PORT,
    CONF_PROTOCOL,
    CONF_SILENCE_DURATION_S,
    CONF_SILENCE_THRESHOLD_DB,
    CONF_SMOOTHING_S,
    CONF_SOURCE,
    CONF_SOURCE_TYPE,
    DOMAIN,
    ENTRY_KIND_ANALYSER,
    ENTRY_KIND_SERIAL_STRIP,
    SOURCE_TYPE_FFMPEG,
)
from tests.serial_pty import device_directory, running

from ..assets import FIXTURE_MODELS, TEST_MODEL, TEST_MODEL_ID
from ..serial_strip import ConnectedSocatPair
from .pcm import SAMPLE_RATE, GeneratedPcmSource, tone

# Fixed ids keep unique ids (and so the snapshots) stable from run to run.
ANALYSER_ENTRY_ID = "01JMUSICMOODANALYSERFAST00"
STRIP_ENTRY_ID = "01JMUSICMOODSTRIPFAST00000"
STRIP_KEEPALIVE_S = 2.0


@pytest.fixture
def config_dir(hass: HomeAssistant, tmp_path: Path) -> Path:
    """A config dir holding the fixture model, and an allow-listed media folder."""
    config = tmp_path / "config"
    (config / "music_mood").mkdir(parents=True)
    shutil.copy(FIXTURE_MODELS / TEST_MODEL, config / "music_mood" / TEST_MODEL)
    hass.config.config_dir = str(config)
    media = tmp_path / "media"
    media.mkdir()
    hass.config.allowlist_external_dirs = {str(media)}
    return config


@pytest.fixture
def source_file(hass: HomeAssistant, config_dir: Path, tmp_path: Path) -> Path:
    """The file the analyser entry names: set-up checks it, the generated PCM plays instead."""
    path = tmp_path / "media" / "tone.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(tone(1.0).tobytes())
    return path


@pytest.fixture
def mock_config_entry(source_file: Path) -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        title="Living room",
        entry_id=ANALYSER_ENTRY_ID,
        unique_id=f"{SOURCE_TYPE_FFMPEG}:{source_file}",
        data={
            CONF_ENTRY_KIND: ENTRY_KIND_ANALYSER,
            CONF_SOURCE_TYPE: SOURCE_TYPE_FFMPEG,
            CONF_SOURCE: str(source_file),
            CONF_MODEL: TEST_MODEL_ID,
        },
        options={
            CONF_SMOOTHING_S: 1.0,
            CONF_SILENCE_THRESHOLD_DB: -50.0,
            CONF_SILENCE_DURATION_S: 1.0,
            CONF_LOOP_FILE: False,
        },
    )


@pytest.fixture
def generated_pcm(monkeypatch: pytest.MonkeyPatch) -> GeneratedPcmSource:
    """The analyser's source resolves to generated PCM: no ffmpeg, the rest unchanged."""
    source = GeneratedPcmSource()

    async def resolve(*_args: object, **_kwargs: object) -> GeneratedPcmSource:
        return source

    monkeypatch.setattr(coordinator_module, "async_resolve_pcm_source", resolve)
    return source


def _only_platform(monkeypatch: pytest.MonkeyPatch, kind: str, platform: Platform | None) -> None:
    if platform is None:
        return
    entry_kind = music_mood.ENTRY_KINDS[kind]
    assert platform in entry_kind.platforms
    monkeypatch.setitem(
        music_mood.ENTRY_KINDS, kind, dataclasses.replace(entry_kind, platforms=(platform,))
    )


@pytest.fixture
async def init_integration(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mock_config_entry: MockConfigEntry,
    generated_pcm: GeneratedPcmSource,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> MockConfigEntry:
    """The analyser set up (with only ``request.param``'s platform when parametrized)."""
    _only_platform(monkeypatch, ENTRY_KIND_ANALYSER, getattr(request, "param", None))
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    await generated_pcm.until_open()
    return mock_config_entry


@pytest.fixture
def socat_pair() -> Iterator[ConnectedSocatPair]:
    for directory in device_directory():
        yield from running(ConnectedSocatPair(directory))


@pytest.fixture
def mock_strip_entry(socat_pair: ConnectedSocatPair) -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        title="Desk strip",
        entry_id=STRIP_ENTRY_ID,
        unique_id="desk-strip",
        data={
            CONF_ENTRY_KIND: ENTRY_KIND_SERIAL_STRIP,
            CONF_PORT: str(socat_pair.strip_path),
            CONF_BAUDRATE: 115200,
            CONF_LED_COUNT: 3,
            CONF_PROTOCOL: "adalight",
        },
        options={CONF_KEEPALIVE_S: STRIP_KEEPALIVE_S},
    )


@pytest.fixture
async def init_strip(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, mock_strip_entry: MockConfigEntry
) -> MockConfigEntry:
    mock_strip_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_strip_entry.entry_id)
    await hass.async_block_till_done()
    return mock_strip_entry


@pytest.fixture
def entity_registry_enabled_by_default() -> Iterator[None]:
    """Entities disabled by default (diagnostic timings, level, engine) are created enabled."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        new_callable=PropertyMock,
        return_value=True,
    ):
        yield


@pytest.fixture
def stable_paths(tmp_path: Path) -> dict[str, str]:
    """The test's own folder as it appears in snapshots (file sources name their path)."""
    return {str(tmp_path): "<tmp_path>"}
