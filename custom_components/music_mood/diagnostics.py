"""Diagnostics of any entry: its configuration, and what its kind reports, credentials redacted."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from . import MusicMoodConfigEntry
from .const import CONF_SOURCE
from .music_mood_core.audio import redact_source

# Keys whose values are secrets wherever they appear (the source itself goes through redact_source).
TO_REDACT = {"username", "password", "token", "api_key"}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: MusicMoodConfigEntry
) -> dict[str, Any]:
    data = dict(entry.data)
    if CONF_SOURCE in data:
        data[CONF_SOURCE] = redact_source(str(data[CONF_SOURCE]))
    result: dict[str, Any] = {
        "entry": {"title": entry.title, "data": data, "options": dict(entry.options)},
        **entry.runtime_data.diagnostics(),
    }
    return async_redact_data(result, TO_REDACT)
