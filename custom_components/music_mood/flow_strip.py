"""Config and reconfigure steps of a serial LED strip: the port is opened once to test it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import voluptuous as vol
from homeassistant.config_entries import ConfigEntry, ConfigEntryState, ConfigFlow, ConfigFlowResult
from homeassistant.core import HomeAssistant
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)

from .const import (
    CONF_BAUDRATE,
    CONF_ENTRY_KIND,
    CONF_KEEPALIVE_S,
    CONF_LED_COUNT,
    CONF_PORT,
    CONF_PROTOCOL,
    DEFAULT_BAUDRATE,
    DEFAULT_KEEPALIVE_S,
    DEFAULT_LED_COUNT,
    DEFAULT_PROTOCOL,
    ENTRY_KIND_SERIAL_STRIP,
)
from .flow_helpers import FormError, abort_if_unique_id_taken, required_key
from .music_mood_core.adalight import PROTOCOLS, SerialStrip, StripError
from .music_mood_core.serial_port import SerialPortError, validate_serial_port
from .strip import strip_config_from_data

BAUDRATES: Final = [9600, 57600, 115200, 230400, 460800, 500000, 921600, 1000000, 2000000]
MAX_LED_COUNT: Final = 10000


def _list_serial_ports() -> list[str]:
    from serial.tools import list_ports  # noqa: PLC0415 - only needed when the form is shown

    return sorted(port.device for port in list_ports.comports())


def strip_data_from_input(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """The strip's typed entry data from the form; FormError for a port or baud rate refused."""
    try:
        port = validate_serial_port(str(user_input[CONF_PORT]).strip())
    except SerialPortError as err:
        raise FormError(CONF_PORT, "invalid_port", str(err)) from err
    try:
        baudrate = int(str(user_input[CONF_BAUDRATE]).strip())
    except ValueError:
        baudrate = 0
    if baudrate <= 0:
        raise FormError(CONF_BAUDRATE, "invalid_baudrate")
    return {
        CONF_ENTRY_KIND: ENTRY_KIND_SERIAL_STRIP,
        CONF_PORT: port,
        CONF_BAUDRATE: baudrate,
        CONF_LED_COUNT: int(user_input[CONF_LED_COUNT]),
        CONF_PROTOCOL: user_input[CONF_PROTOCOL],
    }


def open_and_close(data: Mapping[str, Any]) -> None:
    """Test before configure: the port must open (StripError otherwise)."""
    strip = SerialStrip(strip_config_from_data(data))
    strip.open()
    strip.close()


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


class SerialStripConfigFlowMixin(ConfigFlow):
    """The ``serial_strip`` and ``reconfigure_serial_strip`` steps."""

    async def async_step_serial_strip(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        placeholders = {"error": ""}
        if user_input is not None:
            try:
                data = await self._async_checked_strip(user_input, None)
            except FormError as err:
                errors[err.field] = err.error
                placeholders["error"] = err.detail
            except StripError as err:
                errors["base"] = "cannot_open_port"
                placeholders["error"] = str(err.__cause__ or err)
            else:
                await self.async_set_unique_id(data[CONF_PORT])
                return self.async_create_entry(
                    title=f"LED strip {data[CONF_PORT]}",
                    data=data,
                    options={CONF_KEEPALIVE_S: DEFAULT_KEEPALIVE_S},
                )
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
            try:
                data = await self._async_checked_strip(user_input, entry)
            except FormError as err:
                errors[err.field] = err.error
                placeholders["error"] = err.detail
            except StripError as err:
                errors["base"] = "cannot_open_port"
                placeholders["error"] = str(err.__cause__ or err)
            else:
                return self.async_update_reload_and_abort(
                    entry,
                    unique_id=data[CONF_PORT],
                    data_updates=data,
                    reason="strip_reconfigured",
                )
        return self.async_show_form(
            step_id="reconfigure_serial_strip",
            data_schema=await _async_strip_schema(self.hass, user_input or entry.data),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def _async_checked_strip(
        self, user_input: Mapping[str, Any], entry: ConfigEntry | None
    ) -> dict[str, Any]:
        """The strip's entry data, once its port is known to be free and to open.

        `entry` is the entry being reconfigured, if any. Raises FormError or StripError; aborts
        the flow when another entry has the port.
        """
        data = strip_data_from_input(user_input)
        abort_if_unique_id_taken(
            self,
            data[CONF_PORT],
            reason="strip_already_configured",
            except_entry_id=None if entry is None else entry.entry_id,
        )
        # A loaded entry already holds its own port open: that proves it opens.
        holds_port_open = (
            entry is not None
            and entry.state is ConfigEntryState.LOADED
            and entry.data[CONF_PORT] == data[CONF_PORT]
        )
        if not holds_port_open:
            await self.hass.async_add_executor_job(open_and_close, data)
        return data
