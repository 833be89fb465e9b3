"""Strip framing, byte for byte, and the driver over real serial I/O (loop:// and a socat pty)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import serial
from music_mood_core.adalight import (
    PROTOCOL_ADALIGHT,
    PROTOCOL_AWA,
    PROTOCOL_TPM2,
    SerialStrip,
    StripConfig,
    StripError,
    adalight_frame,
    awa_checksum,
    awa_frame,
    build_frame,
    scale_rgb,
    solid_frame,
    tpm2_frame,
)

from tests.serial_pty import SocatPair, device_directory, running

PIXELS = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]


def test_adalight_header_and_payload() -> None:
    # 3 LEDs -> count-1 = 2 -> hi 0x00, lo 0x02, checksum 0x00 ^ 0x02 ^ 0x55 = 0x57.
    assert adalight_frame(PIXELS) == b"Ada\x00\x02\x57" + bytes([255, 0, 0, 0, 255, 0, 0, 0, 255])


def test_adalight_header_for_a_long_strip() -> None:
    # 300 LEDs -> 299 = 0x012B -> checksum 0x01 ^ 0x2B ^ 0x55 = 0x7F.
    frame = adalight_frame([(1, 2, 3)] * 300)
    assert frame[:6] == b"Ada\x01\x2b\x7f"
    assert len(frame) == 6 + 900
    assert frame[6:9] == b"\x01\x02\x03"


def test_awa_frame_layout_and_checksum() -> None:
    frame = awa_frame(PIXELS)
    payload = bytes([255, 0, 0, 0, 255, 0, 0, 0, 255])
    assert frame[:6] == b"Awa\x00\x02\x57"
    assert frame[6:15] == payload
    # Fletcher sums mod 255 over the payload, worked by hand:
    # fletcher1: 255%255=0, ..., total 765 % 255 = 0.
    # fletcher2 accumulates fletcher1 after each byte: 0,0,0,0,255->0 ... = 0.
    # extended: sum(byte ^ position) = (255^0)+(0^1)+(0^2)+(0^3)+(255^4)+(0^5)+(0^6)+(0^7)+(255^8)
    #         = 255+1+2+3+251+5+6+7+247 = 777 -> 777 % 255 = 12.
    assert frame[15:] == bytes([0, 0, 12])
    assert awa_checksum(b"\x01\x02") == bytes([3, 4, (1 ^ 0) + (2 ^ 1)])


def test_awa_never_sends_a_third_check_byte_that_looks_like_a_header() -> None:
    # A single byte 0x41 at position 0 gives extended == 0x41, which must go out as 0xAA.
    assert awa_checksum(b"\x41") == bytes([0x41, 0x41, 0xAA])


def test_tpm2_frame() -> None:
    assert tpm2_frame(PIXELS) == bytes([0xC9, 0xDA, 0x00, 0x09]) + bytes(
        [255, 0, 0, 0, 255, 0, 0, 0, 255]
    ) + bytes([0x36])
    assert tpm2_frame([(0, 0, 0)] * 100)[2:4] == b"\x01\x2c"


def test_bad_frames_are_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        adalight_frame([])
    with pytest.raises(ValueError, match="three bytes"):
        adalight_frame([(256, 0, 0)])
    with pytest.raises(ValueError, match="protocol"):
        build_frame("dmx", PIXELS)
    with pytest.raises(ValueError, match="protocol"):
        StripConfig(port="loop://", baudrate=115200, led_count=3, protocol="dmx")


def test_brightness_scales_the_colour() -> None:
    assert scale_rgb((255, 128, 0), 255) == (255, 128, 0)
    assert scale_rgb((255, 128, 0), 128) == (128, 64, 0)
    assert scale_rgb((255, 128, 0), 0) == (0, 0, 0)
    assert solid_frame(PROTOCOL_ADALIGHT, 2, (255, 128, 0), 128) == b"Ada\x00\x01\x54" + bytes(
        [128, 64, 0, 128, 64, 0]
    )


def _read_exactly(port: serial.SerialBase, size: int, timeout_s: float = 5.0) -> bytes:
    data = b""
    deadline = time.monotonic() + timeout_s
    while len(data) < size and time.monotonic() < deadline:
        data += port.read(size - len(data))
    return data


@pytest.mark.parametrize("protocol", [PROTOCOL_ADALIGHT, PROTOCOL_AWA, PROTOCOL_TPM2])
def test_strip_writes_exact_frames_over_pyserial_loopback(protocol: str) -> None:
    # loop:// is refused by the strip's own opener; only an injected opener reaches pyserial's
    # loopback, and nothing a user configures can inject one.
    strip = SerialStrip(
        StripConfig("loop://", 115200, 4, protocol), open_port=serial.serial_for_url
    )
    strip.open()
    try:
        # The loop:// port is the strip's own; read back what it wrote.
        port = strip._port
        assert port is not None
        port.timeout = 1
        sent = strip.show((10, 200, 30), brightness=255)
        assert _read_exactly(port, len(sent)) == sent == build_frame(protocol, [(10, 200, 30)] * 4)
        strip.resend()
        assert _read_exactly(port, len(sent)) == sent
    finally:
        strip.close()
    assert not strip.is_open


def test_strip_that_cannot_open_raises_a_strip_error(device_dir: Path) -> None:
    strip = SerialStrip(StripConfig(str(device_dir / "no-such-port"), 115200, 3, PROTOCOL_ADALIGHT))
    with pytest.raises(StripError, match="cannot open"):
        strip.open()
    with pytest.raises(StripError, match="not open"):
        strip.show((1, 2, 3))
    # The colour asked for while closed is what a reconnect will put back.
    assert strip.last_frame == solid_frame(PROTOCOL_ADALIGHT, 3, (1, 2, 3))


@pytest.fixture
def device_dir() -> Iterator[Path]:
    yield from device_directory()


@pytest.fixture
def socat_pair(device_dir: Path) -> Iterator[SocatPair]:
    yield from running(SocatPair(device_dir))


def test_strip_frames_arrive_at_the_peer_pty_and_survive_a_replug(socat_pair: SocatPair) -> None:
    strip = SerialStrip(StripConfig(str(socat_pair.strip_path), 115200, 5, PROTOCOL_ADALIGHT))
    strip.open()
    peer = socat_pair.open_peer(timeout=0.5)
    try:
        strip.show((255, 128, 0), brightness=128)
        expected = b"Ada\x00\x04\x51" + bytes([128, 64, 0]) * 5
        assert _read_exactly(peer, len(expected)) == expected
    finally:
        peer.close()

    socat_pair.stop()
    with pytest.raises(StripError):  # noqa: PT012
        # The kernel may buffer one write after the far end went away; the next one fails.
        for _ in range(50):
            strip.resend()
            time.sleep(0.02)
    assert not strip.is_open

    socat_pair.start()
    strip.open()
    peer = socat_pair.open_peer(timeout=0.5)
    try:
        strip.resend()
        assert _read_exactly(peer, len(expected)) == expected
    finally:
        peer.close()
        strip.close()
    assert os.path.exists(socat_pair.strip_path)
