"""Config and options flow steps for serial LED strips and for an analyser's mood lighting.

Mixed into the integration's flows (config_flow.py): ``SerialStripConfigFlowMixin`` adds the
``serial_strip`` and ``reconfigure_serial_strip`` steps, ``SerialStripOptionsFlow`` is a strip
entry's options flow, ``MoodLightingOptionsMixin`` adds the analyser's ``mood_lighting`` step.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import voluptuous as vol
from homeassistant.config_entries import (
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.selector import (
    ColorRGBSelector,
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)

from .const import (
    CONF_BAUDRATE,
    CONF_COLOUR_PRESET,
    CONF_DRIFT_INTERVAL_S,
    CONF_ENTRY_KIND,
    CONF_HYSTERESIS_DELTA_E,
    CONF_IMMEDIATE_DELTA_E,
    CONF_KEEPALIVE_S,
    CONF_LED_COUNT,
    CONF_MAX_BRIGHTNESS_PCT,
    CONF_MIN_BRIGHTNESS_PCT,
    CONF_MOOD_LIGHTS,
    CONF_ON_MUSIC_STOP,
    CONF_PORT,
    CONF_PROTOCOL,
    CONF_SATURATION_FLOOR_PCT,
    CONF_TRANSITION_S,
    DEFAULT_BAUDRATE,
    DEFAULT_HYSTERESIS_DELTA_E,
    DEFAULT_KEEPALIVE_S,
    DEFAULT_LED_COUNT,
    DEFAULT_MAX_BRIGHTNESS_PCT,
    DEFAULT_MIN_BRIGHTNESS_PCT,
    DEFAULT_ON_MUSIC_STOP,
    DEFAULT_PROTOCOL,
    DEFAULT_SATURATION_FLOOR_PCT,
    DEFAULT_TRANSITION_S,
    ENTRY_KIND_SERIAL_STRIP,
    ON_MUSIC_STOP_HOLD,
    ON_MUSIC_STOP_RESTORE,
)
from .flow_helpers import (
    merged_options,
    number_box,
    option_fields,
    options_form_step,
    required_key,
)
from .mood_lighting import CORNER_OPTION_KEYS, default_corner_option
from .music_mood_core.adalight import PROTOCOLS, SerialStrip, StripError
from .music_mood_core.colour import (
    DEFAULT_DRIFT_INTERVAL_S,
    DEFAULT_IMMEDIATE_DELTA_E,
    PRESETS,
)
from .music_mood_core.serial_port import SerialPortError, validate_serial_port
from .strip import strip_config_from_data

BAUDRATES = [9600, 57600, 115200, 230400, 460800, 500000, 921600, 1000000, 2000000]
MAX_LED_COUNT = 10000


def _list_serial_ports() -> list[str]:
    from serial.tools import list_ports  # noqa: PLC0415 - only needed when the form is shown

    return sorted(port.device for port in list_ports.comports())


def _can_open(data: Mapping[str, Any]) -> str | None:
    """Test before configure: open and close the port; the error text, or None when it opened."""
    strip = SerialStrip(strip_config_from_data(data))
    try:
        strip.open()
    except StripError as err:
        return str(err.__cause__ or err)
    strip.close()
    return None


async def _async_strip_schema(hass: HomeAssistant, defaults: Mapping[str, Any]) -> vol.Schema:
    ports = await hass.async_add_executor_job(_list_serial_ports)
    return vol.Schema(
        {
            # Known ports to pick from; another /dev/ path, socket:// or rfc2217:// may be typed.
            required_key(CONF_PORT, defaults.get(CONF_PORT)): SelectSelector(
                SelectSelectorConfig(
                    options=ports, custom_value=True, mode=SelectSelectorMode.DROPDOWN
                )
            ),
            vol.Required(
                CONF_BAUDRATE, default=str(defaults.get(CONF_BAUDRATE, DEFAULT_BAUDRATE))
            ): SelectSelector(
                SelectSelectorConfig(
                    options=[str(rate) for rate in BAUDRATES],
                    custom_value=True,
                    mode=SelectSelectorMode.DROPDOWN,
                )
            ),
            vol.Required(
                CONF_LED_COUNT, default=defaults.get(CONF_LED_COUNT, DEFAULT_LED_COUNT)
            ): NumberSelector(
                NumberSelectorConfig(min=1, max=MAX_LED_COUNT, step=1, mode=NumberSelectorMode.BOX)
            ),
            vol.Required(
                CONF_PROTOCOL, default=defaults.get(CONF_PROTOCOL, DEFAULT_PROTOCOL)
            ): SelectSelector(
                SelectSelectorConfig(
                    options=list(PROTOCOLS),
                    translation_key="strip_protocol",
                    mode=SelectSelectorMode.LIST,
                )
            ),
        }
    )


def _clean_strip_input(
    user_input: Mapping[str, Any],
) -> tuple[dict[str, Any] | None, dict[str, str], str]:
    """Typed strip data from the form, or None with the form's errors and the detail to show."""
    try:
        port = validate_serial_port(str(user_input[CONF_PORT]).strip())
    except SerialPortError as err:
        return None, {CONF_PORT: "invalid_port"}, str(err)
    try:
        baudrate = int(str(user_input[CONF_BAUDRATE]).strip())
    except ValueError:
        baudrate = 0
    if baudrate <= 0:
        return None, {CONF_BAUDRATE: "invalid_baudrate"}, ""
    data = {
        CONF_ENTRY_KIND: ENTRY_KIND_SERIAL_STRIP,
        CONF_PORT: port,
        CONF_BAUDRATE: baudrate,
        CONF_LED_COUNT: int(user_input[CONF_LED_COUNT]),
        CONF_PROTOCOL: user_input[CONF_PROTOCOL],
    }
    return data, {}, ""


class SerialStripConfigFlowMixin(ConfigFlow):
    """Adds a serial LED strip: the port is opened once before the entry is created."""

    async def async_step_serial_strip(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        placeholders = {"error": ""}
        if user_input is not None:
            data, errors, placeholders["error"] = _clean_strip_input(user_input)
            if data is not None:
                await self.async_set_unique_id(data[CONF_PORT])
                if self._unique_id_taken(data[CONF_PORT], None):
                    return self.async_abort(reason="strip_already_configured")
                error = await self.hass.async_add_executor_job(_can_open, data)
                if error is None:
                    return self.async_create_entry(
                        title=f"LED strip {data[CONF_PORT]}",
                        data=data,
                        options={CONF_KEEPALIVE_S: DEFAULT_KEEPALIVE_S},
                    )
                errors["base"] = "cannot_open_port"
                placeholders["error"] = error
        return self.async_show_form(
            step_id="serial_strip",
            data_schema=await _async_strip_schema(self.hass, user_input or {}),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_reconfigure_serial_strip(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        placeholders = {"error": ""}
        if user_input is not None:
            data, errors, placeholders["error"] = _clean_strip_input(user_input)
            if data is not None and self._unique_id_taken(data[CONF_PORT], entry.entry_id):
                return self.async_abort(reason="strip_already_configured")
            if data is not None:
                # A loaded entry already holds its own port open: that proves it opens.
                unchanged_port = data[CONF_PORT] == entry.data[CONF_PORT] and (
                    entry.state is ConfigEntryState.LOADED
                )
                error = (
                    None
                    if unchanged_port
                    else await self.hass.async_add_executor_job(_can_open, data)
                )
                if error is None:
                    return self.async_update_reload_and_abort(
                        entry,
                        unique_id=data[CONF_PORT],
                        data_updates=data,
                        reason="strip_reconfigured",
                    )
                errors["base"] = "cannot_open_port"
                placeholders["error"] = error
        return self.async_show_form(
            step_id="reconfigure_serial_strip",
            data_schema=await _async_strip_schema(self.hass, user_input or dict(entry.data)),
            errors=errors,
            description_placeholders=placeholders,
        )

    def _unique_id_taken(self, unique_id: str, except_entry_id: str | None) -> bool:
        """Whether an entry other than `except_entry_id` (ignored ones aside) has this id."""
        return any(
            other.unique_id == unique_id and other.entry_id != except_entry_id
            for other in self._async_current_entries(include_ignore=False)
        )


class SerialStripOptionsFlow(OptionsFlow):
    """How often the strip's frame is resent (Adalight firmware blanks without data)."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        return await self.async_step_strip_options(user_input)

    async def async_step_strip_options(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        return options_form_step(self, "strip_options", user_input, _strip_options_schema)


def _strip_options_schema(options: Mapping[str, Any]) -> vol.Schema:
    return vol.Schema(
        option_fields(
            options, [(CONF_KEEPALIVE_S, DEFAULT_KEEPALIVE_S, number_box(0.5, 10, 0.5, "s"))]
        )
    )


def _percent(minimum: float = 0) -> NumberSelector:
    return NumberSelector(
        NumberSelectorConfig(
            min=minimum, max=100, step=1, unit_of_measurement="%", mode=NumberSelectorMode.SLIDER
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
        ): SelectSelector(
            SelectSelectorConfig(
                options=list(PRESETS), translation_key="colour_preset", mode=SelectSelectorMode.LIST
            )
        ),
    }
    for key in CORNER_OPTION_KEYS:
        fields[vol.Required(key, default=list(options.get(key, default_corner_option(key))))] = (
            ColorRGBSelector()
        )
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
                (
                    CONF_ON_MUSIC_STOP,
                    DEFAULT_ON_MUSIC_STOP,
                    SelectSelector(
                        SelectSelectorConfig(
                            options=[
                                SelectOptionDict(
                                    value=ON_MUSIC_STOP_RESTORE, label=ON_MUSIC_STOP_RESTORE
                                ),
                                SelectOptionDict(
                                    value=ON_MUSIC_STOP_HOLD, label=ON_MUSIC_STOP_HOLD
                                ),
                            ],
                            translation_key="on_music_stop",
                            mode=SelectSelectorMode.LIST,
                        )
                    ),
                ),
            ],
        )
    )
    return vol.Schema(fields)


class MoodLightingOptionsMixin(OptionsFlow):
    """The analyser's ``mood_lighting`` options step: which lights follow the music, and how."""

    async def async_step_mood_lighting(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            if user_input[CONF_MIN_BRIGHTNESS_PCT] > user_input[CONF_MAX_BRIGHTNESS_PCT]:
                errors[CONF_MIN_BRIGHTNESS_PCT] = "brightness_range"
            elif user_input[CONF_IMMEDIATE_DELTA_E] < user_input[CONF_HYSTERESIS_DELTA_E]:
                errors[CONF_IMMEDIATE_DELTA_E] = "delta_e_order"
            else:
                return self.async_create_entry(
                    data=merged_options(self.config_entry.options, user_input)
                )
        return self.async_show_form(
            step_id="mood_lighting",
            data_schema=mood_lighting_schema(user_input or self.config_entry.options),
            errors=errors,
        )
