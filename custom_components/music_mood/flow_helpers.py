"""Pieces shared by the config and options flows of analysers and serial strips."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import voluptuous as vol
from homeassistant.config_entries import ConfigFlow, ConfigFlowResult, OptionsFlow
from homeassistant.data_entry_flow import AbortFlow
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
)


class FormError(Exception):
    """Input a form step cannot accept: shown as `error` (a translation key) on `field`."""

    def __init__(self, field: str, error: str, detail: str = "") -> None:
        super().__init__(f"{field}: {error} {detail}".strip())
        self.field = field
        self.error = error
        self.detail = detail


def abort_if_unique_id_taken(
    flow: ConfigFlow, unique_id: str, *, reason: str, except_entry_id: str | None = None
) -> None:
    """Abort the flow when an entry other than `except_entry_id` (ignored ones aside) has this id.

    HA's own check cannot leave out the entry being reconfigured, which keeps its id.
    """
    if any(
        other.unique_id == unique_id and other.entry_id != except_entry_id
        for other in flow._async_current_entries(include_ignore=False)
    ):
        raise AbortFlow(reason)


def required_key(key: str, default: Any) -> vol.Required:
    """A required field, pre-filled only when there is something to pre-fill it with."""
    return vol.Required(key) if default is None else vol.Required(key, default=default)


def option_fields(
    options: Mapping[str, Any], rows: Iterable[tuple[str, Any, Any]]
) -> dict[vol.Required, Any]:
    """Required option fields from (key, default, selector) rows, in order, each pre-filled with
    the entry's current value, else the default."""
    return {
        vol.Required(key, default=options.get(key, default)): selector
        for key, default, selector in rows
    }


def number_box(
    minimum: float, maximum: float, step: float, unit: str | None = None
) -> NumberSelector:
    config = NumberSelectorConfig(min=minimum, max=maximum, step=step, mode=NumberSelectorMode.BOX)
    if unit is not None:
        config["unit_of_measurement"] = unit
    return NumberSelector(config)


def merged_options(options: Mapping[str, Any], user_input: Mapping[str, Any]) -> dict[str, Any]:
    """Options are replaced as a whole: keep what the entry's other option steps stored."""
    return {**options, **user_input}


def options_form_step(
    flow: OptionsFlow,
    step_id: str,
    user_input: dict[str, Any] | None,
    schema: Callable[[Mapping[str, Any]], vol.Schema],
) -> ConfigFlowResult:
    """An options step with nothing to check: store the input, or show `schema(current options)`."""
    options = flow.config_entry.options
    if user_input is not None:
        return flow.async_create_entry(data=merged_options(options, user_input))
    return flow.async_show_form(step_id=step_id, data_schema=schema(options))
