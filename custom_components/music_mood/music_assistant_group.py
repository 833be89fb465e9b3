"""A Music Assistant universal group's live stream, followed while the group plays.

While a universal group plays, Music Assistant serves its audio over plain HTTP on its stream
port (``/ugp/<group id>.mp3`` or ``.flac``; 404 while the group is idle), and the Music Assistant
integration's ``media_player`` entities name the group in their ``active_queue`` attribute. The
analyser never opens what another integration's state says as-is: the URL is built here from the
Music Assistant server's host (its config entry, or an address the administrator typed), the
configured stream port and a group id that matches Music Assistant's own id grammar.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

import aiohttp
from homeassistant.const import CONF_URL, STATE_PLAYING
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import entity_registry as er

from .audio_source import (
    HTTP_INPUT_OPTIONS,
    REASON_CANNOT_CONNECT,
    REASON_ENTITY_NOT_FOUND,
    REASON_INVALID_SOURCE,
    REASON_WAITING_FOR_MEDIA,
    FfmpegInput,
    SourceError,
)
from .music_mood_core.host_address import HostAddress, HostAddressError, checked_host

MUSIC_ASSISTANT_DOMAIN: Final = "music_assistant"
ATTR_ACTIVE_QUEUE: Final = "active_queue"
DEFAULT_STREAM_PORT: Final = 8097
STREAM_CODECS: Final = ("mp3", "flac")
# Music Assistant names a universal group "ugp_" + a short random id (lower-case letters and
# digits). Anything else in active_queue is another kind of queue, or not an id at all.
UNIVERSAL_GROUP_ID: Final = re.compile(r"ugp_[a-z0-9]{1,40}")
# The stream answers at once when the group plays; a 404 means it does not (yet).
PROBE_TIMEOUT: Final = aiohttp.ClientTimeout(total=None, sock_connect=5.0, sock_read=5.0)


@dataclass(frozen=True, slots=True)
class GroupStreamSettings:
    """Where the group stream is served: the server's host (None: from its config entry)."""

    server_host: str | None
    stream_port: int = DEFAULT_STREAM_PORT
    codec: str = STREAM_CODECS[0]


def host_of_server_url(url: str) -> str:
    """The host of a Music Assistant address (``http://192.168.1.20:8095``): HostAddressError."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
    except ValueError as error:
        raise HostAddressError(f"{url[:80]!r} is not a URL ({error})") from error
    if parts.scheme.lower() not in ("http", "https") or not host or "@" in parts.netloc:
        raise HostAddressError(
            f"{url[:80]!r} is not a Music Assistant address: write http://HOST:8095"
        )
    return checked_host(f"[{host}]" if ":" in host else host)


def universal_group_id(state: State) -> str | None:
    """The universal group ``state``'s player plays, if it is one (checked against the grammar)."""
    queue = state.attributes.get(ATTR_ACTIVE_QUEUE)
    if isinstance(queue, str) and UNIVERSAL_GROUP_ID.fullmatch(queue):
        return queue
    return None


def group_stream_url(host: str, port: int, group_id: str, codec: str) -> str:
    if not UNIVERSAL_GROUP_ID.fullmatch(group_id) or codec not in STREAM_CODECS:
        raise ValueError(f"not a universal group stream: {group_id[:60]!r}.{codec[:8]}")
    return f"http://{HostAddress(checked_host(host), port).netloc}/ugp/{group_id}.{codec}"


def music_assistant_host(hass: HomeAssistant, entity_id: str) -> str:
    """The host of the Music Assistant server that provides ``entity_id`` (its config entry)."""
    registered = er.async_get(hass).async_get(entity_id)
    entries = hass.config_entries.async_entries(MUSIC_ASSISTANT_DOMAIN)
    entry = next(
        (e for e in entries if registered and e.entry_id == registered.config_entry_id),
        entries[0] if len(entries) == 1 else None,
    )
    if entry is None:
        raise SourceError(
            REASON_INVALID_SOURCE,
            f"{entity_id} does not belong to a Music Assistant server Home Assistant knows: "
            "type the server's address",
        )
    try:
        return host_of_server_url(str(entry.data.get(CONF_URL, "")))
    except HostAddressError as error:
        raise SourceError(REASON_INVALID_SOURCE, f"Music Assistant's address: {error}") from error


async def async_group_stream_input(
    hass: HomeAssistant,
    session: aiohttp.ClientSession,
    entity_id: str,
    settings: GroupStreamSettings,
) -> FfmpegInput:
    """The group stream to decode now; SourceError ``waiting_for_media`` while none plays."""
    state = hass.states.get(entity_id)
    if state is None:
        raise SourceError(REASON_ENTITY_NOT_FOUND, entity_id)
    if state.state != STATE_PLAYING:
        raise SourceError(REASON_WAITING_FOR_MEDIA, f"{entity_id} is {state.state}")
    group_id = universal_group_id(state)
    if group_id is None:
        raise SourceError(
            REASON_WAITING_FOR_MEDIA,
            f"{entity_id} does not play a Music Assistant universal group now",
        )
    host = settings.server_host or music_assistant_host(hass, entity_id)
    url = group_stream_url(host, settings.stream_port, group_id, settings.codec)
    await _async_check_stream(session, url, group_id)
    return FfmpegInput(url, input_options=HTTP_INPUT_OPTIONS)


async def _async_check_stream(session: aiohttp.ClientSession, url: str, group_id: str) -> None:
    """Ask before ffmpeg opens it: an idle group's 404 is waiting, not a failure to retry loudly."""
    try:
        async with session.get(url, timeout=PROBE_TIMEOUT, allow_redirects=False) as response:
            status = response.status
    except (aiohttp.ClientError, TimeoutError, OSError) as error:
        raise SourceError(
            REASON_CANNOT_CONNECT,
            f"Music Assistant's stream server at {url} does not answer "
            f"({str(error) or type(error).__name__})",
        ) from error
    if status == 404:
        raise SourceError(
            REASON_WAITING_FOR_MEDIA,
            f"the universal group {group_id} has no stream yet (Music Assistant answers 404)",
        )
    if status != 200:
        raise SourceError(REASON_CANNOT_CONNECT, f"{url} answers HTTP {status}")
