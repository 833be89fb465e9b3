"""Options flows: an analyser's (analysis, mood lighting) and a serial strip's."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import voluptuous as vol
from homeassistant.config_entries import ConfigFlowResult, OptionsFlow
from homeassistant.helpers.selector import BooleanSelector

from .const import (
    CONF_DELAY_S,
    CONF_KEEPALIVE_S,
    CONF_LOOP_FILE,
    CONF_MOOD_DEAD_BAND,
    CONF_MOOD_DWELL_S,
    CONF_SILENCE_DURATION_S,
    CONF_SILENCE_THRESHOLD_DB,
    CONF_SMOOTHING_S,
    DEFAULT_KEEPALIVE_S,
    DEFAULT_LOOP_FILE,
    DEFAULT_SILENCE_DURATION_S,
    DEFAULT_SILENCE_THRESHOLD_DB,
    DEFAULT_SMOOTHING_S,
)
from .flow_helpers import FormError, merged_options, number_box, option_fields, options_form_step
from .flow_mood_lighting import check_mood_lighting_input, mood_lighting_schema
from .music_mood_core.delay import DEFAULT_DELAY_S, MAX_DELAY_S, MIN_DELAY_S
from .music_mood_core.mood import DEFAULT_DEAD_BAND, DEFAULT_DWELL_S


def _analysis_schema(options: Mapping[str, Any]) -> vol.Schema:
    return vol.Schema(
        option_fields(
            options,
            [
                (CONF_SMOOTHING_S, DEFAULT_SMOOTHING_S, number_box(0, 60, 0.5, "s")),
                (
                    CONF_SILENCE_THRESHOLD_DB,
                    DEFAULT_SILENCE_THRESHOLD_DB,
                    number_box(-100, 0, 1, "dBFS"),
                ),
                (CONF_SILENCE_DURATION_S, DEFAULT_SILENCE_DURATION_S, number_box(0, 300, 0.5, "s")),
                (CONF_MOOD_DEAD_BAND, DEFAULT_DEAD_BAND, number_box(0, 0.5, 0.01)),
                (CONF_MOOD_DWELL_S, DEFAULT_DWELL_S, number_box(0, 30, 0.5, "s")),
                (CONF_LOOP_FILE, DEFAULT_LOOP_FILE, BooleanSelector()),
                (CONF_DELAY_S, DEFAULT_DELAY_S, number_box(MIN_DELAY_S, MAX_DELAY_S, 0.1, "s")),
            ],
        )
    )


def _strip_options_schema(options: Mapping[str, Any]) -> vol.Schema:
    return vol.Schema(
        option_fields(
            options, [(CONF_KEEPALIVE_S, DEFAULT_KEEPALIVE_S, number_box(0.5, 10, 0.5, "s"))]
        )
    )


class AnalyserOptionsFlow(OptionsFlow):
    """An analyser's analysis settings and its mood lighting."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        return self.async_show_menu(step_id="init", menu_options=["pipeline", "mood_lighting"])

    async def async_step_pipeline(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        return options_form_step(self, "pipeline", user_input, _analysis_schema)

    async def async_step_mood_lighting(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                check_mood_lighting_input(user_input)
            except FormError as err:
                errors[err.field] = err.error
            else:
                return self.async_create_entry(
                    data=merged_options(self.config_entry.options, user_input)
                )
        return self.async_show_form(
            step_id="mood_lighting",
            data_schema=mood_lighting_schema(user_input or self.config_entry.options),
            errors=errors,
        )


class SerialStripOptionsFlow(OptionsFlow):
    """How often the strip's frame is resent (Adalight firmware blanks without data)."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        return await self.async_step_strip_options(user_input)

    async def async_step_strip_options(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        return options_form_step(self, "strip_options", user_input, _strip_options_schema)
