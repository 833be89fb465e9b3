"""The integration's config flow: a menu of entry kinds, and per-kind dispatch.

What an analyser or a serial strip asks for lives in flow_analyser and flow_strip (mixed in here,
as HA calls a flow's steps by name); their options flows in flow_options. ENTRY_KIND_FLOWS says,
per entry kind, where its config flow starts, where reconfigure goes and which options flow it has.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from homeassistant.config_entries import ConfigEntry, ConfigFlow, ConfigFlowResult, OptionsFlow
from homeassistant.core import callback

from .const import CONF_ENTRY_KIND, DOMAIN, ENTRY_KIND_ANALYSER, ENTRY_KIND_SERIAL_STRIP
from .flow_analyser import AnalyserConfigFlowMixin
from .flow_options import AnalyserOptionsFlow, SerialStripOptionsFlow
from .flow_strip import SerialStripConfigFlowMixin


class MusicMoodConfigFlow(
    AnalyserConfigFlowMixin, SerialStripConfigFlowMixin, ConfigFlow, domain=DOMAIN
):
    """Adds analysers and serial LED strips; reconfigures either."""

    VERSION = 1
    MINOR_VERSION = 1

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> OptionsFlow:
        return kind_flows(config_entry).options_flow()

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        return self.async_show_menu(
            step_id="user", menu_options=[kind.first_step for kind in ENTRY_KIND_FLOWS.values()]
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        return await kind_flows(self._get_reconfigure_entry()).reconfigure(self, user_input)


@dataclass(frozen=True, slots=True, kw_only=True)
class EntryKindFlows:
    """The flows of one entry kind."""

    # The config flow step the user menu leads to.
    first_step: str
    # Handles the ``reconfigure`` step of an entry of this kind.
    reconfigure: Callable[[MusicMoodConfigFlow, dict[str, Any] | None], Awaitable[ConfigFlowResult]]
    options_flow: Callable[[], OptionsFlow]


ENTRY_KIND_FLOWS: Final[Mapping[str, EntryKindFlows]] = {
    ENTRY_KIND_ANALYSER: EntryKindFlows(
        first_step="analyser",
        reconfigure=AnalyserConfigFlowMixin.async_reconfigure_analyser,
        options_flow=AnalyserOptionsFlow,
    ),
    ENTRY_KIND_SERIAL_STRIP: EntryKindFlows(
        first_step="serial_strip",
        reconfigure=SerialStripConfigFlowMixin.async_step_reconfigure_serial_strip,
        options_flow=SerialStripOptionsFlow,
    ),
}


def kind_flows(entry: ConfigEntry) -> EntryKindFlows:
    """The flows of the entry's kind; entries from before there were kinds are analysers."""
    kind = entry.data.get(CONF_ENTRY_KIND, ENTRY_KIND_ANALYSER)
    return ENTRY_KIND_FLOWS.get(kind, ENTRY_KIND_FLOWS[ENTRY_KIND_ANALYSER])
