"""Analyser config flow: test before configure (real ffmpeg, real models), errors, duplicates,
options and reconfigure."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import voluptuous as vol
from homeassistant.config_entries import SOURCE_RECONFIGURE, SOURCE_USER, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components import music_mood
from custom_components.music_mood.audio_source import SourceError, parse_ffmpeg_input
from custom_components.music_mood.const import (
    CONF_ENTRY_KIND,
    CONF_LOOP_FILE,
    CONF_MODEL,
    CONF_SILENCE_DURATION_S,
    CONF_SILENCE_THRESHOLD_DB,
    CONF_SMOOTHING_S,
    CONF_SOURCE,
    CONF_SOURCE_TYPE,
    DOMAIN,
    ENTRY_KIND_ANALYSER,
    SOURCE_TYPE_FFMPEG,
    SOURCE_TYPE_MEDIA_PLAYER,
)
from custom_components.music_mood.flow_sources import SOURCE_TYPE_FLOWS
from custom_components.music_mood.music_mood_core import model as model_module

from .assets import FIXTURE_MODELS, TEST_MODEL_ID
from .flows import start_analyser_flow
from .processes import free_port


async def _start_reconfigure(hass: HomeAssistant, entry_id: str) -> dict:
    return await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry_id}
    )


async def test_file_source_creates_entry(hass: HomeAssistant, media_dir: Path) -> None:
    result = await start_analyser_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "source"
    source = str(media_dir / "short.wav")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SOURCE: source}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Kitchen"
    assert result["data"] == {
        CONF_ENTRY_KIND: ENTRY_KIND_ANALYSER,
        CONF_SOURCE_TYPE: SOURCE_TYPE_FFMPEG,
        CONF_SOURCE: source,
        CONF_MODEL: TEST_MODEL_ID,
    }
    entry = result["result"]
    assert entry.unique_id == f"ffmpeg:{source}"
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert await hass.config_entries.async_unload(entry.entry_id)

    # The same source again is a duplicate.
    result = await start_analyser_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SOURCE: source}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_http_source_with_credentials_is_one_source(
    hass: HomeAssistant, media_dir: Path, stream_server
) -> None:
    server = stream_server(media_dir / "short.wav", pace=False, loop=False)
    source = server.url.replace("http://", "http://listener:s3cret@")
    result = await start_analyser_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SOURCE: source}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    assert "s3cret" not in entry.unique_id
    await hass.async_block_till_done()
    assert await hass.config_entries.async_unload(entry.entry_id)

    other_password = server.url.replace("http://", "http://listener:other@")
    result = await start_analyser_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SOURCE: other_password}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


@pytest.mark.parametrize(
    ("make_source", "error"),
    [
        (lambda media: "-i /etc/passwd", "invalid_source"),
        (lambda media: "ftp://example.com/song.mp3", "invalid_source"),
        (lambda media: "concat:/etc/passwd|/etc/hosts", "invalid_source"),
        (lambda media: "relative/song.wav", "invalid_source"),
        (lambda media: "http://[::1/unclosed", "invalid_source"),
        (lambda media: "file://[x/song.wav", "invalid_source"),
        (lambda media: "/etc/passwd", "path_not_allowed"),
        (lambda media: f"file:{media.parent}/config/music_mood/tiny.onnx", "path_not_allowed"),
        (lambda media: str(media / "missing.wav"), "file_not_found"),
        (lambda media: str(media / "not_audio.wav"), "cannot_connect"),
        (lambda media: f"http://127.0.0.1:{free_port()}/nothing", "cannot_connect"),
    ],
)
async def test_source_errors(
    hass: HomeAssistant, media_dir: Path, make_source, error: str, socket_enabled
) -> None:
    (media_dir / "not_audio.wav").write_text("this is text, not audio")
    result = await start_analyser_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SOURCE: make_source(media_dir)}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_SOURCE: error}
    # Fixing the source completes the flow: the form is not a dead end.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SOURCE: str(media_dir / "short.wav")}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert await hass.config_entries.async_unload(result["result"].entry_id)


@pytest.mark.parametrize(
    ("fixture", "reason"),
    [
        ("broken_not_onnx.onnx", "not_onnx"),
        ("broken_unknown_operator.onnx", "unsupported_operator"),
        ("broken_wrong_input_shape.onnx", "bad_signature"),
        ("broken_sample_rate_zero.onnx", "incompatible_metadata"),
    ],
)
async def test_invalid_model(
    hass: HomeAssistant, media_dir: Path, fixture: str, reason: str
) -> None:
    shutil.copy(FIXTURE_MODELS / fixture, Path(hass.config.path("music_mood")) / "broken.onnx")
    result = await start_analyser_flow(hass, model="user/broken.onnx")
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "analyser"
    assert result["errors"] == {CONF_MODEL: "invalid_model"}
    assert result["description_placeholders"]["reason"] == reason


async def test_media_player_source(hass: HomeAssistant, media_dir: Path) -> None:
    result = await start_analyser_flow(hass, source_type=SOURCE_TYPE_MEDIA_PLAYER)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SOURCE: "media_player.nowhere"}
    )
    assert result["errors"] == {CONF_SOURCE: "entity_not_found"}
    hass.states.async_set("media_player.kitchen", "idle")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SOURCE: "media_player.kitchen"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == "media_player:media_player.kitchen"
    await hass.async_block_till_done()
    assert await hass.config_entries.async_unload(result["result"].entry_id)


async def test_options_flow_reloads_with_new_settings(hass: HomeAssistant, media_dir: Path) -> None:
    result = await start_analyser_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SOURCE: str(media_dir / "short.wav")}
    )
    entry = result["result"]
    await hass.async_block_till_done()
    old_coordinator = entry.runtime_data.coordinator

    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["pipeline", "mood_lighting"]
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "pipeline"}
    )
    assert result["step_id"] == "pipeline"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_SMOOTHING_S: 0.5,
            CONF_SILENCE_THRESHOLD_DB: -40.0,
            CONF_SILENCE_DURATION_S: 2.0,
            CONF_LOOP_FILE: True,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    coordinator = entry.runtime_data.coordinator
    assert coordinator is not old_coordinator
    settings = coordinator.settings
    assert (settings.smoothing_s, settings.silence_threshold_db) == (0.5, -40.0)
    assert (settings.silence_duration_s, settings.loop_file) == (2.0, True)
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_reconfigure_changes_source_and_model(hass: HomeAssistant, media_dir: Path) -> None:
    shutil.copy(
        FIXTURE_MODELS / "ensemble.onnx", Path(hass.config.path("music_mood")) / "ensemble.onnx"
    )
    created = []
    for clip in ("short.wav", "music_then_silence.wav"):
        result = await start_analyser_flow(hass)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_SOURCE: str(media_dir / clip)}
        )
        created.append(result["result"])
        await hass.async_block_till_done()
    entry, other = created

    result = await _start_reconfigure(hass, entry.entry_id)
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SOURCE_TYPE: SOURCE_TYPE_FFMPEG, CONF_MODEL: "user/ensemble.onnx"}
    )
    assert result["step_id"] == "reconfigure_source"
    # Another analyser's source: a duplicate.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SOURCE: other.data[CONF_SOURCE]}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"

    result = await _start_reconfigure(hass, entry.entry_id)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SOURCE_TYPE: SOURCE_TYPE_FFMPEG, CONF_MODEL: "user/ensemble.onnx"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SOURCE: str(media_dir / "missing.wav")}
    )
    assert result["errors"] == {CONF_SOURCE: "file_not_found"}
    shutil.copy(media_dir / "short.wav", media_dir / "copy.wav")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SOURCE: str(media_dir / "copy.wav")}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.data[CONF_SOURCE] == str(media_dir / "copy.wav")
    assert entry.data[CONF_MODEL] == "user/ensemble.onnx"
    assert entry.unique_id == f"ffmpeg:{media_dir / 'copy.wav'}"
    assert entry.runtime_data.coordinator.models.model_id == "user/ensemble.onnx"
    for each in created:
        assert await hass.config_entries.async_unload(each.entry_id)


async def test_capture_devices_become_ffmpeg_input_formats(hass: HomeAssistant) -> None:
    pulse = await hass.async_add_executor_job(parse_ffmpeg_input, hass, "pulse:default")
    assert (pulse.source, pulse.input_options, pulse.is_capture_device) == (
        "default",
        ("-f", "pulse"),
        True,
    )
    alsa = await hass.async_add_executor_job(parse_ffmpeg_input, hass, "alsa:hw:1,0")
    assert (alsa.source, alsa.input_options) == ("hw:1,0", ("-f", "alsa"))
    for bad in ("alsa:", "pulse:-f", "oss:/dev/dsp"):
        with pytest.raises(SourceError) as raised:
            await hass.async_add_executor_job(parse_ffmpeg_input, hass, bad)
        assert raised.value.reason == "invalid_source"


async def test_no_model_at_all_aborts_with_a_reason(
    hass: HomeAssistant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An install without the bundled model (e.g. a copy that left models/ behind) and an empty
    # music_mood folder: nothing to choose from, so the flow says why instead of an empty list.
    monkeypatch.setattr(model_module, "BUNDLED_MODEL_PATH", tmp_path / "not_shipped.onnx")
    config_dir = tmp_path / "config"
    (config_dir / "music_mood").mkdir(parents=True)
    hass.config.config_dir = str(config_dir)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "analyser"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "no_models"


async def test_reconfigure_to_another_source_type_asks_for_its_source_afresh(
    hass: HomeAssistant, media_dir: Path
) -> None:
    result = await start_analyser_flow(hass)
    file_source = str(media_dir / "short.wav")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SOURCE: file_source}
    )
    entry = result["result"]
    await hass.async_block_till_done()

    result = await _start_reconfigure(hass, entry.entry_id)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SOURCE_TYPE: SOURCE_TYPE_MEDIA_PLAYER, CONF_MODEL: TEST_MODEL_ID}
    )
    assert result["step_id"] == "reconfigure_source"
    # A file path is no media player: the old source is not offered as the new one.
    (source_key,) = result["data_schema"].schema
    assert source_key.default is vol.UNDEFINED
    hass.states.async_set("media_player.kitchen", "idle")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SOURCE: "media_player.kitchen"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.data[CONF_SOURCE_TYPE] == SOURCE_TYPE_MEDIA_PLAYER
    assert entry.data[CONF_SOURCE] == "media_player.kitchen"
    assert entry.unique_id == "media_player:media_player.kitchen"
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_reconfigure_offers_the_entrys_own_source_while_the_type_stays(
    hass: HomeAssistant, media_dir: Path
) -> None:
    result = await start_analyser_flow(hass)
    file_source = str(media_dir / "short.wav")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SOURCE: file_source}
    )
    entry = result["result"]
    await hass.async_block_till_done()
    result = await _start_reconfigure(hass, entry.entry_id)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SOURCE_TYPE: SOURCE_TYPE_FFMPEG, CONF_MODEL: TEST_MODEL_ID}
    )
    (source_key,) = result["data_schema"].schema
    assert source_key.default() == file_source
    # Its own source is not a duplicate of itself.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SOURCE: file_source}
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_every_source_type_row_is_offered_and_labelled(
    hass: HomeAssistant, media_dir: Path
) -> None:
    strings = json.loads(Path(music_mood.__file__).with_name("strings.json").read_text("utf-8"))
    labels = strings["selector"]["source_type"]["options"]
    assert list(SOURCE_TYPE_FLOWS) == list(labels)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "analyser"}
    )
    selector = result["data_schema"].schema[CONF_SOURCE_TYPE]
    assert selector.config["options"] == list(SOURCE_TYPE_FLOWS)


async def test_entry_from_before_entry_kinds_gets_the_analyser_flows(
    hass: HomeAssistant, media_dir: Path
) -> None:
    # Analyser entries written before serial strips existed have no kind in their data.
    entry = MockConfigEntry(
        domain=DOMAIN,
        data={
            CONF_SOURCE_TYPE: SOURCE_TYPE_FFMPEG,
            CONF_SOURCE: str(media_dir / "short.wav"),
            CONF_MODEL: TEST_MODEL_ID,
        },
    )
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["pipeline", "mood_lighting"]
    result = await _start_reconfigure(hass, entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
