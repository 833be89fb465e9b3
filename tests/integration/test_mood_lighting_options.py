"""The analyser's options menu: the mood lighting step stores what the driver reads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from homeassistant.config_entries import ConfigFlowResult
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from custom_components.music_mood.analyser import analyser_settings
from custom_components.music_mood.const import (
    CONF_COLOUR_PRESET,
    CONF_CORNER_NEGATIVE_CALM,
    CONF_CORNER_NEGATIVE_ENERGETIC,
    CONF_CORNER_POSITIVE_CALM,
    CONF_CORNER_POSITIVE_ENERGETIC,
    CONF_DRIFT_INTERVAL_S,
    CONF_HYSTERESIS_DELTA_E,
    CONF_IMMEDIATE_DELTA_E,
    CONF_MAX_BRIGHTNESS_PCT,
    CONF_MIN_BRIGHTNESS_PCT,
    CONF_MOOD_DEAD_BAND,
    CONF_MOOD_DWELL_S,
    CONF_MOOD_LIGHTS,
    CONF_ON_MUSIC_STOP,
    CONF_SATURATION_FLOOR_PCT,
    CONF_SMOOTHING_S,
    CONF_TRANSITION_S,
)
from custom_components.music_mood.mood_lighting import MoodLightingSettings
from custom_components.music_mood.music_mood_core.colour import (
    DEFAULT_DRIFT_INTERVAL_S,
    DEFAULT_IMMEDIATE_DELTA_E,
    PRESET_FOUR_CORNER,
)
from custom_components.music_mood.music_mood_core.mood import DEFAULT_DEAD_BAND, DEFAULT_DWELL_S

from .entries import analyser_entry

USER_INPUT = {
    CONF_MOOD_LIGHTS: ["light.sofa", "light.desk_strip_led_strip"],
    CONF_COLOUR_PRESET: "four_corner",
    CONF_CORNER_POSITIVE_ENERGETIC: [255, 200, 0],
    CONF_CORNER_NEGATIVE_ENERGETIC: [200, 0, 40],
    CONF_CORNER_NEGATIVE_CALM: [0, 30, 200],
    CONF_CORNER_POSITIVE_CALM: [40, 200, 80],
    CONF_MIN_BRIGHTNESS_PCT: 10,
    CONF_MAX_BRIGHTNESS_PCT: 80,
    CONF_SATURATION_FLOOR_PCT: 20,
    CONF_HYSTERESIS_DELTA_E: 6.0,
    CONF_IMMEDIATE_DELTA_E: 40.0,
    CONF_DRIFT_INTERVAL_S: 8.0,
    CONF_TRANSITION_S: 1.5,
    CONF_ON_MUSIC_STOP: "hold",
}


async def test_mood_lighting_options_are_stored_next_to_the_pipeline_options(
    hass: HomeAssistant,
) -> None:
    # Not set up: the options flow needs no running pipeline.
    entry = analyser_entry("/media/music.flac")
    entry.add_to_hass(hass)

    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["pipeline", "mood_lighting"]
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "mood_lighting"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "mood_lighting"

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], USER_INPUT | {CONF_MIN_BRIGHTNESS_PCT: 90}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_MIN_BRIGHTNESS_PCT: "brightness_range"}

    result = await hass.config_entries.options.async_configure(result["flow_id"], USER_INPUT)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_SMOOTHING_S] == 1.0  # the pipeline's options survive
    for key, value in USER_INPUT.items():
        assert entry.options[key] == value

    settings = MoodLightingSettings.from_options(entry.options)
    assert settings.lights == ("light.sofa", "light.desk_strip_led_strip")
    assert settings.colour.preset == PRESET_FOUR_CORNER
    assert settings.colour.corner_colours is not None
    assert settings.colour.corner_colours["negative_calm"] == (0, 30, 200)
    assert (settings.colour.min_brightness, settings.colour.max_brightness) == (26, 204)
    assert settings.colour.saturation_floor == 0.2
    assert settings.pacing.hysteresis.min_delta_e == 6.0
    assert settings.pacing.hysteresis.immediate_delta_e == 40.0
    assert settings.pacing.drift_interval_s == 8.0
    assert settings.transition_s == 1.5
    assert not settings.restore_on_stop


async def test_mood_lighting_form_defaults_come_from_current_options(
    hass: HomeAssistant,
) -> None:
    entry = analyser_entry("/media/music.flac", **USER_INPUT)
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "mood_lighting"}
    )
    defaults = {
        str(key): key.default() for key in result["data_schema"].schema if callable(key.default)
    }
    assert defaults[CONF_MOOD_LIGHTS] == USER_INPUT[CONF_MOOD_LIGHTS]
    assert defaults[CONF_CORNER_NEGATIVE_CALM] == [0, 30, 200]
    assert defaults[CONF_ON_MUSIC_STOP] == "hold"


async def _mood_lighting_form(hass: HomeAssistant, entry_id: str) -> ConfigFlowResult:
    result = await hass.config_entries.options.async_init(entry_id)
    return await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "mood_lighting"}
    )


async def test_immediate_threshold_below_the_visible_one_is_a_form_error(
    hass: HomeAssistant,
) -> None:
    entry = analyser_entry("/media/music.flac")
    entry.add_to_hass(hass)
    flow_id = (await _mood_lighting_form(hass, entry.entry_id))["flow_id"]
    result = await hass.config_entries.options.async_configure(
        flow_id, USER_INPUT | {CONF_HYSTERESIS_DELTA_E: 10.0, CONF_IMMEDIATE_DELTA_E: 5.0}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_IMMEDIATE_DELTA_E: "delta_e_order"}
    assert CONF_IMMEDIATE_DELTA_E not in entry.options
    # Fixed, it is stored.
    result = await hass.config_entries.options.async_configure(
        flow_id, USER_INPUT | {CONF_HYSTERESIS_DELTA_E: 10.0, CONF_IMMEDIATE_DELTA_E: 10.0}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_IMMEDIATE_DELTA_E] == 10.0


async def test_pacing_defaults_apply_to_entries_made_before_the_options_existed(
    hass: HomeAssistant,
) -> None:
    entry = analyser_entry("/media/music.flac", **{CONF_MOOD_LIGHTS: ["light.sofa"]})
    entry.add_to_hass(hass)
    settings = MoodLightingSettings.from_options(entry.options)
    assert settings.pacing.hysteresis.immediate_delta_e == DEFAULT_IMMEDIATE_DELTA_E
    assert settings.pacing.drift_interval_s == DEFAULT_DRIFT_INTERVAL_S
    pipeline = analyser_settings(entry)
    assert (pipeline.mood_dead_band, pipeline.mood_dwell_s) == (
        DEFAULT_DEAD_BAND,
        DEFAULT_DWELL_S,
    )
    # The form offers the defaults.
    result = await _mood_lighting_form(hass, entry.entry_id)
    defaults = {
        str(key): key.default() for key in result["data_schema"].schema if callable(key.default)
    }
    assert defaults[CONF_IMMEDIATE_DELTA_E] == DEFAULT_IMMEDIATE_DELTA_E
    assert defaults[CONF_DRIFT_INTERVAL_S] == DEFAULT_DRIFT_INTERVAL_S


async def test_mood_dead_band_and_dwell_are_analysis_options(hass: HomeAssistant) -> None:
    entry = analyser_entry("/media/music.flac")
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "pipeline"}
    )
    assert result["step_id"] == "pipeline"
    defaults = {
        str(key): key.default() for key in result["data_schema"].schema if callable(key.default)
    }
    assert defaults[CONF_MOOD_DEAD_BAND] == DEFAULT_DEAD_BAND
    assert defaults[CONF_MOOD_DWELL_S] == DEFAULT_DWELL_S
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**defaults, CONF_MOOD_DEAD_BAND: 0.2, CONF_MOOD_DWELL_S: 3.0}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    settings = analyser_settings(entry)
    assert (settings.mood_dead_band, settings.mood_dwell_s) == (0.2, 3.0)
    assert settings.smoothing_s == 1.0


def _strings_and_english() -> tuple[dict[str, Any], dict[str, Any]]:
    integration = Path(__file__).resolve().parents[2] / "custom_components" / "music_mood"
    strings = json.loads((integration / "strings.json").read_text(encoding="utf-8"))
    english = json.loads((integration / "translations" / "en.json").read_text(encoding="utf-8"))
    return strings, english


async def test_every_option_field_is_labelled_and_described(hass: HomeAssistant) -> None:
    strings, english = _strings_and_english()
    assert english == strings, "run scripts/sync_translations.py"
    entry = analyser_entry("/media/music.flac")
    entry.add_to_hass(hass)
    for step in ("pipeline", "mood_lighting"):
        result = await hass.config_entries.options.async_init(entry.entry_id)
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {"next_step_id": step}
        )
        fields = {str(key) for key in result["data_schema"].schema}
        texts = strings["options"]["step"][step]
        assert fields <= set(texts["data"]), step
        assert fields <= set(texts["data_description"]), step
    assert "delta_e_order" in strings["options"]["error"]
