"""Which serial ports a strip may open: device files under /dev/ and two network controllers.

pyserial's ``serial_for_url`` understands URL handlers that write files (``spy://…?file=PATH``
truncates PATH even when opening fails), scan the host's hardware (``hwgrep://``), talk to other
kinds of devices (``cp2110://``, ``alt://``) or take options in a query string. A port string is
configuration typed by an admin, but it is still only ever one of:

* a device path: ``/dev/`` followed by ``/``-separated names of letters, digits and ``_.:+@=#,-``
  (what udev uses for ``/dev/serial/by-id/…`` links), never ``.`` or ``..``; when opened it must
  resolve to a character device inside ``/dev/``;
* ``socket://HOST:PORT`` or ``rfc2217://HOST:PORT`` (network LED controllers, ser2net): HOST a DNS
  name, an IPv4 address or a bracketed IPv6 address, PORT 1..65535, nothing else (no query).
"""

from __future__ import annotations

import ipaddress
import os
import re
import stat
from typing import Any, Final

import serial

DEVICE_ROOT: Final = "/dev/"
NETWORK_SCHEMES: Final = ("socket", "rfc2217")
MAX_PORT_LENGTH: Final = 255

_DEVICE_NAME: Final = re.compile(r"[A-Za-z0-9_.:+@=#,-]+")
_NETWORK_PORT: Final = re.compile(
    r"(?P<scheme>[A-Za-z0-9]+)://(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(?P<port>[0-9]{1,5})"
)
_HOST_LABEL: Final = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_MAX_HOST_LENGTH: Final = 253


class SerialPortError(ValueError):
    """A port string that names something other than a serial device or a network controller."""


def is_network_port(port: str) -> bool:
    return "://" in port


def validate_serial_port(port: str) -> str:
    """The port in its canonical form (scheme lower-cased); SerialPortError when refused."""
    if not isinstance(port, str) or not port:
        raise SerialPortError("the serial port is empty")
    if len(port) > MAX_PORT_LENGTH:
        raise SerialPortError(f"the serial port is longer than {MAX_PORT_LENGTH} characters")
    if is_network_port(port):
        return _validate_network_port(port)
    _validate_device_path(port)
    return port


def _validate_device_path(port: str) -> None:
    if not port.startswith(DEVICE_ROOT):
        raise SerialPortError(
            f"{port!r} is not a device under {DEVICE_ROOT} "
            "(nor socket://host:port or rfc2217://host:port)"
        )
    for name in port[len(DEVICE_ROOT) :].split("/"):
        if name in ("", ".", "..") or not _DEVICE_NAME.fullmatch(name):
            raise SerialPortError(
                f"{port!r} is not a plain device path: names may hold letters, digits and "
                "_ . : + @ = # , - and must not be empty, '.' or '..'"
            )


def _validate_network_port(port: str) -> str:
    match = _NETWORK_PORT.fullmatch(port)
    scheme = port.partition("://")[0].lower()
    if scheme not in NETWORK_SCHEMES:
        raise SerialPortError(
            f"pyserial's {scheme}:// handler is not allowed; use a device under {DEVICE_ROOT}, "
            "socket://host:port or rfc2217://host:port"
        )
    if match is None:
        # The refused text is not echoed: it may hold a password in a user part.
        raise SerialPortError(
            f"a {scheme}:// port must be exactly {scheme}://host:port "
            "(no user, path, query or fragment)"
        )
    _validate_host(match["host"])
    number = int(match["port"])
    if not 1 <= number <= 65535:
        raise SerialPortError(f"TCP port {number} is outside 1..65535")
    return f"{scheme}://{match['host']}:{number}"


def _validate_host(host: str) -> None:
    if host.startswith("["):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise SerialPortError(f"{host} is not an IPv6 address") from None
        return
    if all(part.isdigit() for part in host.split(".")):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            raise SerialPortError(f"{host} is not an IPv4 address") from None
        return
    if len(host) > _MAX_HOST_LENGTH or not all(
        _HOST_LABEL.fullmatch(label) for label in host.split(".")
    ):
        raise SerialPortError(f"{host!r} is not a valid host name")


def resolve_device(port: str) -> str:
    """Blocking (filesystem): the character device a validated device path leads to.

    Symlinks (``/dev/serial/by-id/…``) are followed; the target must still be inside /dev/ and a
    character device, so no link can send the strip's bytes into a regular file.
    """
    real = os.path.realpath(port)
    if not real.startswith(DEVICE_ROOT):
        raise SerialPortError(f"{port} leads to {real}, which is outside {DEVICE_ROOT}")
    try:
        mode = os.stat(real).st_mode
    except OSError as err:
        raise serial.SerialException(f"cannot open {port}: {err.strerror or err}") from err
    if not stat.S_ISCHR(mode):
        raise SerialPortError(f"{port} is not a character device")
    return real


def open_serial_port(port: str, **settings: Any) -> serial.SerialBase:
    """Open a port after validating it again; ``settings`` are pyserial's (baudrate, timeouts).

    Raises SerialPortError for a refused port, serial.SerialException or OSError when it fails.
    """
    canonical = validate_serial_port(port)
    if is_network_port(canonical):
        return serial.serial_for_url(canonical, **settings)
    # A device path goes to the plain Serial class: no URL handler ever sees it.
    return serial.Serial(resolve_device(canonical), **settings)
