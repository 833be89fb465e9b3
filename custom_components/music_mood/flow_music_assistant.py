"""The analyser flow's two Music Assistant source types: a Sendspin player and a group stream.

Each is a row of ``flow_sources.SOURCE_TYPE_FLOWS``: the source step's fields and the test the
input passes before an entry is made. A Sendspin server must accept Music Mood as a player; a
group stream needs a Music Assistant player entity and a server address to build its URL from
(what the group plays is not tested: it changes all the time, and the analyser waits for it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

import aiohttp
import voluptuous as vol
from homeassistant.const import CONF_URL
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    EntitySelector,
    EntitySelectorConfig,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
)

from .audio_source import (
    REASON_CANNOT_CONNECT,
    REASON_ENTITY_NOT_FOUND,
    REASON_INVALID_SOURCE,
    SourceError,
)
from .const import (
    CONF_MUSIC_ASSISTANT_URL,
    CONF_SOURCE,
    CONF_STREAM_CODEC,
    CONF_STREAM_PORT,
)
from .flow_helpers import number_box, required_key
from .music_assistant_group import (
    DEFAULT_STREAM_PORT,
    MUSIC_ASSISTANT_DOMAIN,
    STREAM_CODECS,
    host_of_server_url,
    music_assistant_host,
)
from .music_mood_core.host_address import HostAddressError, checked_port
from .music_mood_core.sendspin_wire import (
    DEFAULT_SENDSPIN_PORT,
    SendspinError,
    SendspinUrlError,
    parse_server_url,
)
from .sendspin_player import async_check_server

if TYPE_CHECKING:
    from .flow_sources import SourceCheck

# The player the flow's test registers: the entry's own player id is only known once it exists.
_CHECK_PLAYER_ID: Final = "music-mood-setup-check"
_CHECK_PLAYER_NAME: Final = "Music Mood (setup check)"


def sendspin_fields(defaults: Mapping[str, Any]) -> dict[vol.Marker, Any]:
    # Empty: the address of the Music Assistant server Home Assistant knows, on Sendspin's port.
    return {vol.Optional(CONF_SOURCE, default=defaults.get(CONF_SOURCE, "")): TextSelector()}


async def async_validate_sendspin(check: SourceCheck) -> dict[str, Any]:
    text = check.source or _music_assistant_sendspin_url(check)
    try:
        server = parse_server_url(text)
    except SendspinUrlError as error:
        raise SourceError(REASON_INVALID_SOURCE, str(error)) from error
    try:
        await async_check_server(
            async_get_clientsession(check.hass),
            server,
            client_id=_CHECK_PLAYER_ID,
            name=_CHECK_PLAYER_NAME,
            sample_rate=check.sample_rate,
        )
    except (SendspinError, aiohttp.ClientError, OSError, TimeoutError) as error:
        raise SourceError(
            REASON_CANNOT_CONNECT,
            f"{server.url} does not accept Music Mood as a player "
            f"({str(error) or type(error).__name__})",
        ) from error
    return {CONF_SOURCE: server.url}


def _music_assistant_sendspin_url(check: SourceCheck) -> str:
    entries = check.hass.config_entries.async_entries(MUSIC_ASSISTANT_DOMAIN)
    if len(entries) != 1:
        raise SourceError(
            REASON_INVALID_SOURCE,
            "type the Sendspin server's address (ws://HOST:8927): Home Assistant knows "
            f"{len(entries)} Music Assistant servers",
        )
    try:
        host = host_of_server_url(str(entries[0].data.get(CONF_URL, "")))
    except HostAddressError as error:
        raise SourceError(REASON_INVALID_SOURCE, f"Music Assistant's address: {error}") from error
    bracketed = f"[{host}]" if ":" in host else host
    return f"ws://{bracketed}:{DEFAULT_SENDSPIN_PORT}"


def group_stream_fields(defaults: Mapping[str, Any]) -> dict[vol.Marker, Any]:
    return {
        required_key(CONF_SOURCE, defaults.get(CONF_SOURCE)): EntitySelector(
            EntitySelectorConfig(domain="media_player", integration=MUSIC_ASSISTANT_DOMAIN)
        ),
        vol.Optional(
            CONF_MUSIC_ASSISTANT_URL, default=defaults.get(CONF_MUSIC_ASSISTANT_URL, "")
        ): TextSelector(),
        vol.Required(
            CONF_STREAM_PORT, default=defaults.get(CONF_STREAM_PORT, DEFAULT_STREAM_PORT)
        ): number_box(1, 65535, 1),
        vol.Required(
            CONF_STREAM_CODEC, default=defaults.get(CONF_STREAM_CODEC, STREAM_CODECS[0])
        ): SelectSelector(
            SelectSelectorConfig(options=list(STREAM_CODECS), mode=SelectSelectorMode.DROPDOWN)
        ),
    }


async def async_validate_group_stream(check: SourceCheck) -> dict[str, Any]:
    entity_id = check.source
    if check.hass.states.get(entity_id) is None:
        raise SourceError(REASON_ENTITY_NOT_FOUND, entity_id)
    typed_url = str(check.user_input.get(CONF_MUSIC_ASSISTANT_URL) or "").strip()
    if typed_url:
        try:
            host_of_server_url(typed_url)
        except HostAddressError as error:
            raise SourceError(REASON_INVALID_SOURCE, str(error)) from error
    else:
        music_assistant_host(check.hass, entity_id)  # SourceError when no server is known
    # The selectors keep the port in 1..65535 and the codec among STREAM_CODECS.
    return {
        CONF_SOURCE: entity_id,
        CONF_MUSIC_ASSISTANT_URL: typed_url,
        CONF_STREAM_PORT: checked_port(int(check.user_input[CONF_STREAM_PORT])),
        CONF_STREAM_CODEC: check.user_input[CONF_STREAM_CODEC],
    }
