"""Reload an entry when its options change, and only then.

Home Assistant 2025.4 has no OptionsFlowWithReload, so entries reload from an update listener. That
listener also fires when a reconfigure flow updates the entry's data, and the reconfigure flow
reloads the entry itself: reloading again would restart ffmpeg or reopen the serial port twice.
"""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback


@callback
def async_reload_on_options_change(entry: ConfigEntry[Any]) -> None:
    """Reload ``entry`` after an options change; ignore updates that leave the options as set up."""
    options_at_setup = dict(entry.options)

    async def _async_reload_if_options_changed(
        hass: HomeAssistant, entry: ConfigEntry[Any]
    ) -> None:
        if dict(entry.options) != options_at_setup:
            await hass.config_entries.async_reload(entry.entry_id)

    entry.async_on_unload(entry.add_update_listener(_async_reload_if_options_changed))
