"""One unique id per source, whatever way it is written, so the same source cannot be added twice.

The id is the canonical form of the source: a file: URL and the plain path are the same file;
trailing slashes, default ports, letter case of scheme and host, credentials and fragments do not
make another stream. Entries that predate this (or were written by hand, like the demo's seeded
entry) get the id when they are set up.
"""

from __future__ import annotations

import logging
import posixpath
import re
from typing import Final
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback

from .const import CONF_SOURCE, CONF_SOURCE_TYPE, DOMAIN, SOURCE_TYPE_FFMPEG
from .music_mood_core.capture_device import CAPTURE_DRIVERS

_LOGGER = logging.getLogger(__name__)

DEFAULT_PORTS: Final = {
    "http": 80,
    "https": 443,
    "rtsp": 554,
    "rtsps": 322,
    "rtmp": 1935,
    "rtmps": 443,
    "mms": 1755,
    "mmsh": 80,
}
# Query parameters that authorise rather than select: another token is still the same stream.
_CREDENTIAL_KEY: Final = re.compile(
    r"pass|pwd|token|auth|secret|sig|key|credential|session|expires", re.IGNORECASE
)


def canonical_source(source_type: str, source: str) -> str:
    """The form of ``source`` that two spellings of the same source share (no credentials)."""
    text = source.strip()
    if source_type != SOURCE_TYPE_FFMPEG:
        return text.lower()  # an entity id
    if text.startswith("/") or text[:5].lower() == "file:":
        return _canonical_path(text)
    driver, separator, device = text.partition(":")
    if separator and driver.lower() in CAPTURE_DRIVERS and not device.startswith("//"):
        return f"{driver.lower()}:{device}"
    return _canonical_url(text)


def source_unique_id(source_type: str, source: str) -> str:
    return f"{source_type}:{canonical_source(source_type, source)}"


def _canonical_path(text: str) -> str:
    try:
        path = text if text.startswith("/") else unquote(urlsplit(text).path)
    except ValueError:  # not a valid URL: not a source that can be added either
        return text
    if not path.startswith("/"):
        return text  # a relative path is refused anyway
    return posixpath.normpath(re.sub("/+", "/", path))


def _canonical_url(text: str) -> str:
    try:
        parts = urlsplit(text)
        host, port = parts.hostname, parts.port
    except ValueError:  # not a valid URL or port: not a source that can be added either
        return text
    scheme = parts.scheme.lower()
    if not scheme or not host:
        return text
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != DEFAULT_PORTS.get(scheme):
        netloc += f":{port}"
    query = urlencode(
        [
            (key, value)
            for key, value in parse_qsl(parts.query, keep_blank_values=True)
            if not _CREDENTIAL_KEY.search(key)
        ]
    )
    return f"{scheme}://{netloc}{parts.path.rstrip('/')}" + (f"?{query}" if query else "")


@callback
def async_ensure_unique_id(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Give an analyser entry its canonical unique id unless another entry already has it."""
    unique_id = source_unique_id(entry.data[CONF_SOURCE_TYPE], entry.data[CONF_SOURCE])
    if entry.unique_id == unique_id:
        return
    holder = hass.config_entries.async_entry_for_domain_unique_id(DOMAIN, unique_id)
    if holder is not None and holder.entry_id != entry.entry_id:
        _LOGGER.warning(
            "%s analyses the same source as %s; remove one of them", entry.title, holder.title
        )
        return
    hass.config_entries.async_update_entry(entry, unique_id=unique_id)
