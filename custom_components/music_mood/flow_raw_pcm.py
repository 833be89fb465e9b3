"""The analyser flow's raw-PCM rows: a FIFO/pipe file, or a UDP port, and the declared format.

Neither is probed for audio: the player that writes the FIFO or sends the datagrams may not be
playing while the analyser is set up, and the analyser then says "waiting for media". What can be
checked is: the path (allow-listed, a FIFO or a regular file), the address (a literal local IP
address, port 1024-65535, free to bind) and the format (the core's grammar).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol
from homeassistant.config_entries import ConfigEntryState
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
)

from .audio_source import SourceError
from .const import (
    CONF_PCM_CHANNELS,
    CONF_PCM_SAMPLE_FORMAT,
    CONF_PCM_SAMPLE_RATE,
    CONF_SOURCE,
    CONF_SOURCE_TYPE,
    DOMAIN,
    SOURCE_TYPE_RAW_PCM_UDP,
)
from .flow_helpers import required_key
from .music_mood_core.raw_pcm_format import (
    MAX_CHANNELS,
    MAX_SAMPLE_RATE,
    MIN_CHANNELS,
    MIN_SAMPLE_RATE,
    SAMPLE_FORMATS,
    RawPcmFormat,
)
from .music_mood_core.raw_pcm_source import RawPcmSourceError
from .music_mood_core.raw_pcm_udp import UdpPcmReceiver
from .raw_pcm_input import REASON_CANNOT_LISTEN, check_pipe_path, listen_address, pcm_format_of

if TYPE_CHECKING:
    from .flow_sources import SourceCheck

# Snapcast's default output (48000:16:2), also what shairport-sync and librespot write.
DEFAULT_FORMAT: Final = RawPcmFormat(48000, 2, "s16le")


def _format_fields(defaults: Mapping[str, Any]) -> dict[vol.Marker, Any]:
    rate = defaults.get(CONF_PCM_SAMPLE_RATE, DEFAULT_FORMAT.sample_rate)
    channels = defaults.get(CONF_PCM_CHANNELS, DEFAULT_FORMAT.channels)
    sample_format = defaults.get(CONF_PCM_SAMPLE_FORMAT, DEFAULT_FORMAT.sample_format)
    return {
        vol.Required(CONF_PCM_SAMPLE_RATE, default=rate): NumberSelector(
            NumberSelectorConfig(
                min=MIN_SAMPLE_RATE,
                max=MAX_SAMPLE_RATE,
                step=1,
                mode=NumberSelectorMode.BOX,
                unit_of_measurement="Hz",
            )
        ),
        vol.Required(CONF_PCM_CHANNELS, default=str(channels)): SelectSelector(
            SelectSelectorConfig(
                options=[str(n) for n in range(MIN_CHANNELS, MAX_CHANNELS + 1)],
                mode=SelectSelectorMode.DROPDOWN,
                translation_key=CONF_PCM_CHANNELS,
            )
        ),
        vol.Required(CONF_PCM_SAMPLE_FORMAT, default=sample_format): SelectSelector(
            SelectSelectorConfig(
                options=list(SAMPLE_FORMATS),
                mode=SelectSelectorMode.DROPDOWN,
                translation_key=CONF_PCM_SAMPLE_FORMAT,
            )
        ),
    }


def raw_pcm_fields(defaults: Mapping[str, Any]) -> dict[vol.Marker, Any]:
    """The path or the listening address, then the declared format."""
    return {
        required_key(CONF_SOURCE, defaults.get(CONF_SOURCE)): TextSelector(),
        **_format_fields(defaults),
    }


def _format_data(pcm_format: RawPcmFormat) -> dict[str, Any]:
    return {
        CONF_PCM_SAMPLE_RATE: pcm_format.sample_rate,
        CONF_PCM_CHANNELS: pcm_format.channels,
        CONF_PCM_SAMPLE_FORMAT: pcm_format.sample_format,
    }


async def async_validate_pipe(check: SourceCheck) -> dict[str, Any]:
    """An allow-listed FIFO or regular file, and a valid format (no writer needed yet)."""
    pcm_format = pcm_format_of(check.user_input)
    path = await check.hass.async_add_executor_job(check_pipe_path, check.hass, check.source)
    return {CONF_SOURCE: path, **_format_data(pcm_format)}


async def async_validate_udp(check: SourceCheck) -> dict[str, Any]:
    """A literal local address and a free unprivileged port, and a valid format."""
    pcm_format = pcm_format_of(check.user_input)
    host, port = listen_address(check.source)
    shown = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    if not _held_by_a_running_analyser(check, shown):
        receiver = UdpPcmReceiver(host, port, pcm_format)
        try:
            await receiver.open()
        except RawPcmSourceError as error:
            raise SourceError(REASON_CANNOT_LISTEN, str(error)) from error
        finally:
            receiver.close()
    return {CONF_SOURCE: shown, **_format_data(pcm_format)}


def _held_by_a_running_analyser(check: SourceCheck, source: str) -> bool:
    """Reconfiguring an analyser that listens on this very port: it is busy with us, not taken."""
    return any(
        entry.state is ConfigEntryState.LOADED
        and entry.data.get(CONF_SOURCE_TYPE) == SOURCE_TYPE_RAW_PCM_UDP
        and entry.data.get(CONF_SOURCE) == source
        for entry in check.hass.config_entries.async_entries(DOMAIN)
    )
