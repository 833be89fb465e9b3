"""Host names and ports that Music Mood connects to (a Sendspin server, Music Assistant's streams).

Addresses come from an administrator's form or from another integration's configuration, and end up
in URLs the integration builds itself. So a host is accepted only as a DNS name, an IPv4 address or
an IPv6 address in brackets, and a port only as a number from 1 to 65535: nothing that could carry
a path, credentials, a query or a second URL into what is built from it.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Final

_MAX_HOST_CHARS: Final = 253
_DNS_LABEL: Final = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
_PORT: Final = re.compile(r"[0-9]{1,5}")


class HostAddressError(ValueError):
    """Not a host (and port) Music Mood connects to; the message says what is accepted."""


@dataclass(frozen=True, slots=True)
class HostAddress:
    """A validated host and port; ``netloc`` is the form a URL carries (IPv6 in brackets)."""

    host: str
    port: int

    @property
    def netloc(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def checked_host(host: str) -> str:
    """The host (IPv6 without brackets, names lower-cased), or HostAddressError."""
    text = host.strip()
    if ":" in text:  # only an IPv6 address has colons; in a URL it is bracketed
        try:
            return str(ipaddress.IPv6Address(text.removeprefix("[").removesuffix("]")))
        except ValueError as error:
            raise HostAddressError(f"{_quoted(text)} is not an IPv6 address") from error
    if not text or len(text) > _MAX_HOST_CHARS:
        raise HostAddressError(
            f"a host name has 1 to {_MAX_HOST_CHARS} characters (got {len(text)})"
        )
    name = text.removesuffix(".")
    if all(_DNS_LABEL.fullmatch(label) for label in name.split(".")):
        if name.replace(".", "").isdigit():
            try:
                return str(ipaddress.IPv4Address(name))
            except ValueError as error:
                raise HostAddressError(f"{_quoted(text)} is not an IPv4 address") from error
        return name.lower()
    raise HostAddressError(
        f"{_quoted(text)} is not a host: use a name (e.g. homeassistant.local), an IPv4 address "
        "or an IPv6 address in brackets"
    )


def checked_port(port: object) -> int:
    """A TCP port number from 1 to 65535 (an int or its decimal text), or HostAddressError."""
    if isinstance(port, str) and _PORT.fullmatch(port.strip()):
        port = int(port.strip())
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise HostAddressError(f"a port is a whole number from 1 to 65535 (got {port!r})")
    return port


def _quoted(text: str) -> str:
    return repr(text if len(text) <= 80 else text[:80] + "…")
