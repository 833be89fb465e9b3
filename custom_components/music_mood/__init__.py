"""Music Mood: listens to music, reports its valence, arousal and mood, and colours lights.

Each kind of config entry (an analyser, a serial LED strip) brings its platforms and builds its
runtime data; setup, unload, removal and diagnostics go through the one table below.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Protocol

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import EVENT_HOMEASSISTANT_STOP, Platform
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.typing import ConfigType

from .analyser import (
    ANALYSER_PLATFORMS,
    async_create_analyser_runtime,
    async_remove_analyser_entry,
)
from .const import CONF_ENTRY_KIND, DOMAIN, ENTRY_KIND_ANALYSER, ENTRY_KIND_SERIAL_STRIP
from .reload import async_reload_on_options_change
from .services import async_setup_services
from .strip import STRIP_PLATFORMS, async_create_strip_runtime

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


class EntryRuntime(Protocol):
    """What every entry kind keeps in ``entry.runtime_data``."""

    def async_start(self) -> None:
        """Run, once the platforms are set up."""

    async def async_stop(self) -> None:
        """Stop whatever runs (ffmpeg, a serial port); safe to call more than once."""

    def diagnostics(self) -> dict[str, Any]:
        """The kind's part of the diagnostics, redacted."""


@dataclass(frozen=True, slots=True)
class EntryKind:
    platforms: tuple[Platform, ...]
    # Test before setup: raises ConfigEntryNotReady / ConfigEntryError, saying why.
    async_create_runtime: Callable[[HomeAssistant, ConfigEntry[Any]], Awaitable[EntryRuntime]]
    async_remove: Callable[[HomeAssistant, ConfigEntry[Any]], None] | None = None


ENTRY_KINDS: Final[Mapping[str, EntryKind]] = {
    ENTRY_KIND_ANALYSER: EntryKind(
        ANALYSER_PLATFORMS, async_create_analyser_runtime, async_remove_analyser_entry
    ),
    ENTRY_KIND_SERIAL_STRIP: EntryKind(STRIP_PLATFORMS, async_create_strip_runtime),
}

MusicMoodConfigEntry = ConfigEntry[EntryRuntime]


def entry_kind(entry: ConfigEntry[Any]) -> EntryKind:
    """The entry's kind; entries from before there were kinds are analysers."""
    kind = entry.data.get(CONF_ENTRY_KIND, ENTRY_KIND_ANALYSER)
    return ENTRY_KINDS.get(kind, ENTRY_KINDS[ENTRY_KIND_ANALYSER])


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the integration-wide actions (they must exist even with no entry loaded)."""
    async_setup_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: MusicMoodConfigEntry) -> bool:
    kind = entry_kind(entry)
    runtime = entry.runtime_data = await kind.async_create_runtime(hass, entry)
    await hass.config_entries.async_forward_entry_setups(entry, kind.platforms)
    runtime.async_start()

    async def _async_stop_on_shutdown(_event: Event) -> None:
        await runtime.async_stop()

    entry.async_on_unload(
        hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, _async_stop_on_shutdown)
    )
    async_reload_on_options_change(entry)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: MusicMoodConfigEntry) -> bool:
    unloaded = await hass.config_entries.async_unload_platforms(entry, entry_kind(entry).platforms)
    # Stop even if a platform refused: ffmpeg or a held port must never outlive the entry.
    await entry.runtime_data.async_stop()
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: MusicMoodConfigEntry) -> None:
    if (async_remove := entry_kind(entry).async_remove) is not None:
        async_remove(hass, entry)
