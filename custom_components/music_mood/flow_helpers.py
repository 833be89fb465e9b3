"""Pieces shared by the config and options flows of analysers and serial strips."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import voluptuous as vol
from homeassistant.config_entries import ConfigFlowResult, OptionsFlow
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
)


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
