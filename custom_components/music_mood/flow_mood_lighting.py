"""The analyser's mood lighting options form: which lights follow the music, and how."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import voluptuous as vol
from homeassistant.helpers.selector import (
    ColorRGBSelector,
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)

from .const import (
    CONF_COLOUR_PRESET,
    CONF_DRIFT_INTERVAL_S,
    CONF_HYSTERESIS_DELTA_E,
    CONF_IMMEDIATE_DELTA_E,
    CONF_MAX_BRIGHTNESS_PCT,
    CONF_MIN_BRIGHTNESS_PCT,
    CONF_MOOD_LIGHTS,
    CONF_ON_MUSIC_STOP,
    CONF_SATURATION_FLOOR_PCT,
    CONF_TRANSITION_S,
    DEFAULT_HYSTERESIS_DELTA_E,
    DEFAULT_MAX_BRIGHTNESS_PCT,
    DEFAULT_MIN_BRIGHTNESS_PCT,
    DEFAULT_ON_MUSIC_STOP,
    DEFAULT_SATURATION_FLOOR_PCT,
    DEFAULT_TRANSITION_S,
    ON_MUSIC_STOP_HOLD,
    ON_MUSIC_STOP_RESTORE,
)
from .flow_helpers import FormError, number_box, option_fields
from .mood_lighting import CORNER_OPTION_KEYS, default_corner_option
from .music_mood_core.colour import (
    DEFAULT_DRIFT_INTERVAL_S,
    DEFAULT_IMMEDIATE_DELTA_E,
    PRESETS,
)


def _percent(minimum: float = 0) -> NumberSelector:
    return NumberSelector(
        NumberSelectorConfig(
            min=minimum, max=100, step=1, unit_of_measurement="%", mode=NumberSelectorMode.SLIDER
        )
    )


def _choice(options: list[str], translation_key: str) -> SelectSelector:
    return SelectSelector(
        SelectSelectorConfig(
            options=options, translation_key=translation_key, mode=SelectSelectorMode.LIST
        )
    )


def mood_lighting_schema(options: Mapping[str, Any]) -> vol.Schema:
    """The mood lighting form, pre-filled from the current options."""
    fields: dict[Any, Any] = {
        vol.Optional(
            CONF_MOOD_LIGHTS, default=list(options.get(CONF_MOOD_LIGHTS, []))
        ): EntitySelector(EntitySelectorConfig(domain="light", multiple=True)),
        vol.Required(
            CONF_COLOUR_PRESET, default=options.get(CONF_COLOUR_PRESET, PRESETS[0])
        ): _choice(list(PRESETS), "colour_preset"),
    }
    for key in CORNER_OPTION_KEYS:
        fields[vol.Required(key, default=list(options.get(key, default_corner_option(key))))] = (
            ColorRGBSelector()
        )
    on_music_stop = _choice([ON_MUSIC_STOP_RESTORE, ON_MUSIC_STOP_HOLD], "on_music_stop")
    fields.update(
        option_fields(
            options,
            [
                (CONF_MIN_BRIGHTNESS_PCT, DEFAULT_MIN_BRIGHTNESS_PCT, _percent(1)),
                (CONF_MAX_BRIGHTNESS_PCT, DEFAULT_MAX_BRIGHTNESS_PCT, _percent(1)),
                (CONF_SATURATION_FLOOR_PCT, DEFAULT_SATURATION_FLOOR_PCT, _percent()),
                (CONF_HYSTERESIS_DELTA_E, DEFAULT_HYSTERESIS_DELTA_E, number_box(0, 50, 0.5)),
                (CONF_IMMEDIATE_DELTA_E, DEFAULT_IMMEDIATE_DELTA_E, number_box(0, 300, 1)),
                (CONF_DRIFT_INTERVAL_S, DEFAULT_DRIFT_INTERVAL_S, number_box(0, 60, 0.5, "s")),
                (CONF_TRANSITION_S, DEFAULT_TRANSITION_S, number_box(0, 10, 0.1, "s")),
                (CONF_ON_MUSIC_STOP, DEFAULT_ON_MUSIC_STOP, on_music_stop),
            ],
        )
    )
    return vol.Schema(fields)


def check_mood_lighting_input(user_input: Mapping[str, Any]) -> None:
    """FormError when the ranges contradict each other."""
    if user_input[CONF_MIN_BRIGHTNESS_PCT] > user_input[CONF_MAX_BRIGHTNESS_PCT]:
        raise FormError(CONF_MIN_BRIGHTNESS_PCT, "brightness_range")
    if user_input[CONF_IMMEDIATE_DELTA_E] < user_input[CONF_HYSTERESIS_DELTA_E]:
        raise FormError(CONF_IMMEDIATE_DELTA_E, "delta_e_order")
