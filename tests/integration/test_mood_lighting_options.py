"""The analyser's options menu: the mood lighting step stores what the driver reads."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from custom_components.music_mood.const import (
    CONF_COLOUR_PRESET,
    CONF_CORNER_NEGATIVE_CALM,
    CONF_CORNER_NEGATIVE_ENERGETIC,
    CONF_CORNER_POSITIVE_CALM,
    CONF_CORNER_POSITIVE_ENERGETIC,
    CONF_HYSTERESIS_DELTA_E,
    CONF_MAX_BRIGHTNESS_PCT,
    CONF_MIN_BRIGHTNESS_PCT,
    CONF_MOOD_LIGHTS,
    CONF_ON_MUSIC_STOP,
    CONF_SATURATION_FLOOR_PCT,
    CONF_SMOOTHING_S,
    CONF_TRANSITION_S,
)
from custom_components.music_mood.mood_lighting import MoodLightingSettings
from custom_components.music_mood.music_mood_core.colour import PRESET_FOUR_CORNER

from .test_analyser import analyser_entry

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
    assert settings.hysteresis.min_delta_e == 6.0
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
