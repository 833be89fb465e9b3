"""The serial port grammar: device paths under /dev/ and socket:// / rfc2217:// host:port only."""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from music_mood_core.adalight import PROTOCOL_ADALIGHT, SerialStrip, StripConfig, StripError
from music_mood_core.serial_port import (
    SerialPortError,
    open_serial_port,
    resolve_device,
    validate_serial_port,
)

from tests.serial_pty import SocatPair, device_directory, running


@pytest.fixture
def device_dir() -> Iterator[Path]:
    yield from device_directory()


@pytest.fixture
def socat_pair(device_dir: Path) -> Iterator[SocatPair]:
    yield from running(SocatPair(device_dir))


@pytest.fixture
def local_sockets(request: pytest.FixtureRequest) -> None:
    """Home Assistant's test plugin blocks sockets unless asked; elsewhere they just work."""
    with contextlib.suppress(pytest.FixtureLookupError):
        request.getfixturevalue("socket_enabled")


@pytest.mark.parametrize(
    "port",
    [
        "/dev/ttyUSB0",
        "/dev/ttyACM1",
        "/dev/ttyAMA0",
        "/dev/pts/3",
        "/dev/serial/by-id/usb-1a86_USB2.0-Serial-if00-port0",
        "/dev/serial/by-id/usb-Silicon_Labs_CP2102_USB_to_UART_Bridge_Controller_0001-if00-port0",
        "/dev/serial/by-path/pci-0000:00:14.0-usb-0:2:1.0-port0",
        "socket://192.168.1.40:7777",
        "socket://strip.local:7777",
        "rfc2217://ser2net.lan:2217",
        "socket://[::1]:7777",
        "rfc2217://[fe80::1:2]:1",
        "socket://wled-1:65535",
    ],
)
def test_device_paths_and_network_controllers_are_accepted(port: str) -> None:
    assert validate_serial_port(port) == port


def test_scheme_and_port_number_are_normalised() -> None:
    assert validate_serial_port("RFC2217://host:0080") == "rfc2217://host:80"


@pytest.mark.parametrize(
    ("port", "problem"),
    [
        ("", "empty"),
        ("spy:///dev/ttyUSB0?file=/config/configuration.yaml", "spy://"),
        ("loop://", "loop://"),
        ("hwgrep://.*", "hwgrep://"),
        ("alt:///dev/ttyS0?class=PosixPollSerial", "alt://"),
        ("cp2110://0001:0002:00", "cp2110://"),
        ("/dev/x://y", "not allowed"),
        ("socket://host:7777?logging=debug", "exactly"),
        ("socket://host:7777/path", "exactly"),
        ("socket://host:7777#fragment", "exactly"),
        ("socket://user:secret@host:7777", "exactly"),
        ("socket://host", "exactly"),
        ("socket://:7777", "exactly"),
        ("socket://host:0", "outside 1..65535"),
        ("socket://host:65536", "outside 1..65535"),
        ("socket://host:-1", "exactly"),
        ("socket://256.1.1.1:7777", "not an IPv4"),
        ("socket://1.2.3:7777", "not an IPv4"),
        ("socket://[1:2:3]:7777", "not an IPv6"),
        ("socket://[fe80::1%eth0]:7777", "exactly"),
        ("socket://-strip.lan:7777", "not a valid host"),
        ("socket://strip..lan:7777", "not a valid host"),
        ("socket://" + "a" * 64 + ".lan:7777", "not a valid host"),
        ("/etc/passwd", "not a device under /dev/"),
        ("ttyUSB0", "not a device under /dev/"),
        ("./dev/ttyUSB0", "not a device under /dev/"),
        ("/dev/../etc/passwd", "'..'"),
        ("/dev/./ttyUSB0", "'..'"),
        ("/dev/serial//by-id", "'..'"),
        ("/dev/ttyUSB0/", "'..'"),
        ("/dev/", "'..'"),
        ("/dev/tty USB0", "'..'"),
        ("/dev/tty\nUSB0", "'..'"),
        ("/dev/tty;id", "'..'"),
        ("/dev/tty'x'", "'..'"),
        ("/dev/" + "a" * 300, "longer than"),
    ],
)
def test_everything_else_is_refused_with_a_reason(port: str, problem: str) -> None:
    with pytest.raises(SerialPortError) as caught:
        validate_serial_port(port)
    assert problem in str(caught.value)
    assert "secret" not in str(caught.value)


def test_spy_url_never_touches_its_file(tmp_path: Path, socat_pair: SocatPair) -> None:
    """pyserial's spy:// opens (truncates) ``file=`` before it opens the port itself."""
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    before = victim.stat()
    port = f"spy://{socat_pair.strip_path}?file={victim}"
    with pytest.raises(SerialPortError, match="spy://"):
        open_serial_port(port, baudrate=115200)
    strip = SerialStrip(StripConfig(port, 115200, 3, PROTOCOL_ADALIGHT))
    with pytest.raises(StripError, match="spy://"):
        strip.open()
    assert victim.read_text() == "keep me"
    assert victim.stat().st_mtime_ns == before.st_mtime_ns


def test_socket_url_with_a_query_never_connects(local_sockets: None) -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.settimeout(0.5)
        number = server.getsockname()[1]
        with pytest.raises(SerialPortError):
            open_serial_port(f"socket://127.0.0.1:{number}?logging=debug")
        with pytest.raises(TimeoutError):
            server.accept()
        # The plain form of the same URL does connect: the refusal above is the grammar's.
        port = open_serial_port(f"socket://127.0.0.1:{number}")
        try:
            connection, _ = server.accept()
            connection.close()
        finally:
            port.close()


def test_a_device_link_may_not_lead_to_a_regular_file(tmp_path: Path, device_dir: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    link = device_dir / "ttyLink"
    link.symlink_to(victim)
    with pytest.raises(SerialPortError, match="outside /dev/"):
        resolve_device(str(link))
    plain_file = device_dir / "ttyFile"
    plain_file.write_text("keep me too")
    with pytest.raises(SerialPortError, match="not a character device"):
        open_serial_port(str(plain_file), baudrate=115200)
    strip = SerialStrip(StripConfig(str(link), 115200, 3, PROTOCOL_ADALIGHT))
    with pytest.raises(StripError):
        strip.open()
    assert victim.read_text() == "keep me"
    assert plain_file.read_text() == "keep me too"


def test_a_device_link_opens_the_pty_it_points_to(socat_pair: SocatPair) -> None:
    assert resolve_device(str(socat_pair.strip_path)) == os.path.realpath(socat_pair.strip_path)
    port = open_serial_port(str(socat_pair.strip_path), baudrate=115200, timeout=0)
    peer = socat_pair.open_peer(timeout=2)
    try:
        port.write(b"hello")
        port.flush()
        assert peer.read(5) == b"hello"
    finally:
        peer.close()
        port.close()
