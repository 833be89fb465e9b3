"""Serial LED strip framing (Adalight, AWA, TPM2) and a small blocking strip driver.

Frame builders are pure functions returning the exact bytes a strip controller expects:

* Adalight: ``b"Ada"``, count-1 big-endian ``hi lo``, checksum ``hi ^ lo ^ 0x55``, R G B per LED.
* AWA (HyperHDR's high-speed Adalight variant, HyperSerialESP32/HyperSerialEsp8266 firmware):
  ``b"Awa"`` + the Adalight count/checksum header, R G B per LED, three Fletcher-style check bytes.
* TPM2: ``0xC9 0xDA``, payload size big-endian, the RGB payload, ``0x36``.

`SerialStrip` owns one pyserial port, opened through `serial_port.open_serial_port` (device paths
and socket:// / rfc2217:// only). Every method blocks (serial I/O), so Home Assistant calls them
from its executor; a lock keeps a keep-alive resend and a new colour from interleaving their bytes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

import serial

from .serial_port import open_serial_port

_LOGGER = logging.getLogger(__name__)

RGB = tuple[int, int, int]

PROTOCOL_ADALIGHT: Final = "adalight"
PROTOCOL_AWA: Final = "awa"
PROTOCOL_TPM2: Final = "tpm2"
PROTOCOLS: Final = (PROTOCOL_ADALIGHT, PROTOCOL_AWA, PROTOCOL_TPM2)

# Adalight counts LEDs in 16 bits (minus one); TPM2's payload size is 16 bits of bytes.
MAX_LEDS: Final = {PROTOCOL_ADALIGHT: 65536, PROTOCOL_AWA: 65536, PROTOCOL_TPM2: 65535 // 3}

_TPM2_BLOCK_START: Final = 0xC9
_TPM2_DATA_FRAME: Final = 0xDA
_TPM2_BLOCK_END: Final = 0x36

# Serial writes must never hang a worker thread forever when a USB adapter wedges.
WRITE_TIMEOUT_S: Final = 2.0


class StripError(Exception):
    """The strip's port could not be opened or written."""


def _pixel_bytes(pixels: Sequence[RGB]) -> bytes:
    if not pixels:
        raise ValueError("a frame needs at least one LED")
    payload = bytearray()
    for pixel in pixels:
        if len(pixel) != 3 or any(not 0 <= channel <= 255 for channel in pixel):
            raise ValueError(f"pixel {pixel!r} is not three bytes")
        payload.extend(pixel)
    return bytes(payload)


def _count_header(magic: bytes, led_count: int) -> bytes:
    if led_count > MAX_LEDS[PROTOCOL_ADALIGHT]:
        raise ValueError("too many LEDs for an Adalight header")
    high, low = divmod(led_count - 1, 256)
    return magic + bytes((high, low, high ^ low ^ 0x55))


def adalight_frame(pixels: Sequence[RGB]) -> bytes:
    """One Adalight frame for ``pixels`` (R, G, B order as sent)."""
    payload = _pixel_bytes(pixels)
    return _count_header(b"Ada", len(pixels)) + payload


def awa_checksum(payload: bytes) -> bytes:
    """HyperHDR AWA's three check bytes over the LED payload.

    Two running Fletcher sums mod 255, plus a third sum of each byte XORed with its (8-bit wrapping)
    position. A third byte of 0x41 ('A') is sent as 0xAA so it cannot look like a header start.
    """
    fletcher1 = fletcher2 = extended = 0
    for position, byte in enumerate(payload):
        extended = (extended + (byte ^ (position & 0xFF))) % 255
        fletcher1 = (fletcher1 + byte) % 255
        fletcher2 = (fletcher2 + fletcher1) % 255
    return bytes((fletcher1, fletcher2, 0xAA if extended == 0x41 else extended))


def awa_frame(pixels: Sequence[RGB]) -> bytes:
    """One AWA frame (no white-channel calibration block) for ``pixels``."""
    payload = _pixel_bytes(pixels)
    return _count_header(b"Awa", len(pixels)) + payload + awa_checksum(payload)


def tpm2_frame(pixels: Sequence[RGB]) -> bytes:
    """One TPM2 data frame for ``pixels``."""
    payload = _pixel_bytes(pixels)
    if len(payload) > 0xFFFF:
        raise ValueError("too many LEDs for one TPM2 frame")
    high, low = divmod(len(payload), 256)
    return (
        bytes((_TPM2_BLOCK_START, _TPM2_DATA_FRAME, high, low))
        + payload
        + bytes((_TPM2_BLOCK_END,))
    )


FRAME_BUILDERS: Final[dict[str, Callable[[Sequence[RGB]], bytes]]] = {
    PROTOCOL_ADALIGHT: adalight_frame,
    PROTOCOL_AWA: awa_frame,
    PROTOCOL_TPM2: tpm2_frame,
}


def build_frame(protocol: str, pixels: Sequence[RGB]) -> bytes:
    """The frame for ``pixels`` in ``protocol``."""
    try:
        builder = FRAME_BUILDERS[protocol]
    except KeyError:
        raise ValueError(f"unknown strip protocol {protocol!r}") from None
    return builder(pixels)


def scale_rgb(rgb: RGB, brightness: int) -> RGB:
    """Apply a 0..255 brightness to a colour, as the strip has no brightness of its own."""
    factor = max(0, min(255, brightness)) / 255.0
    red, green, blue = (max(0, min(255, round(channel * factor))) for channel in rgb)
    return (red, green, blue)


def solid_frame(protocol: str, led_count: int, rgb: RGB, brightness: int = 255) -> bytes:
    """Every LED the same colour, at ``brightness``."""
    if led_count < 1:
        raise ValueError("led_count must be at least 1")
    return build_frame(protocol, [scale_rgb(rgb, brightness)] * led_count)


OpenPort = Callable[..., serial.SerialBase]


@dataclass(frozen=True, slots=True)
class StripConfig:
    """Where the strip is and how it talks."""

    port: str
    baudrate: int
    led_count: int
    protocol: str

    def __post_init__(self) -> None:
        if self.protocol not in PROTOCOLS:
            raise ValueError(f"unknown strip protocol {self.protocol!r}")
        if not 1 <= self.led_count <= MAX_LEDS[self.protocol]:
            raise ValueError("led_count out of range for the protocol")


class SerialStrip:
    """A strip on one serial port: open, show a colour, resend it, reconnect.

    Remembers the last frame so a keep-alive (Adalight firmware blanks the LEDs after a few seconds
    without data) or a reconnect can put the same colour back.
    """

    def __init__(self, config: StripConfig, open_port: OpenPort = open_serial_port) -> None:
        self.config = config
        self._open_port = open_port
        self._port: serial.SerialBase | None = None
        self._lock = threading.Lock()
        self.last_frame: bytes = solid_frame(config.protocol, config.led_count, (0, 0, 0))

    @property
    def is_open(self) -> bool:
        return self._port is not None

    def open(self) -> None:
        """Open the port (closing any previous one). Raises `StripError` if it cannot be opened."""
        with self._lock:
            self._close_locked()
            try:
                self._port = self._open_port(
                    self.config.port,
                    baudrate=self.config.baudrate,
                    timeout=0,
                    write_timeout=WRITE_TIMEOUT_S,
                )
            except (serial.SerialException, OSError, ValueError) as err:
                raise StripError(f"cannot open {self.config.port}: {err}") from err

    def close(self) -> None:
        with self._lock:
            self._close_locked()

    def _close_locked(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            try:
                port.close()
            except (serial.SerialException, OSError):
                _LOGGER.debug("Closing %s failed; it is gone anyway", self.config.port)

    def show(self, rgb: RGB, brightness: int = 255) -> bytes:
        """Set every LED to ``rgb`` at ``brightness``; returns the frame. Raises `StripError`."""
        frame = solid_frame(self.config.protocol, self.config.led_count, rgb, brightness)
        self.write_frame(frame)
        return frame

    def resend(self) -> None:
        """Send the last frame again. Raises `StripError`."""
        self.write_frame(self.last_frame)

    def write_frame(self, frame: bytes) -> None:
        """Write one whole frame. On failure the port is closed and `StripError` raised."""
        with self._lock:
            self.last_frame = frame
            if self._port is None:
                raise StripError(f"{self.config.port} is not open")
            try:
                self._port.write(frame)
                self._port.flush()
            except (serial.SerialException, OSError) as err:
                self._close_locked()
                raise StripError(f"writing to {self.config.port} failed: {err}") from err
