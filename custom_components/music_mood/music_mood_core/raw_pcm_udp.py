"""Receiving raw PCM as UDP datagrams on a local port (ESPHome microphone components, ffmpeg).

The listener is something the administrator types (address and port), never something a device or
another integration supplies: it opens a port that anyone who can reach it may send audio to. So
the address must be a literal IP address of this machine (127.0.0.1 keeps it to local senders,
0.0.0.0 or one interface's address opens it to the network, the administrator's choice), the port
an unprivileged one, and what a sender can cost is bounded: datagrams larger than a UDP payload can
be are impossible and oversized ones are dropped, and at most ``max_buffered_bytes`` wait unread
(the oldest audio goes first: for a live source the newest matters).

Each datagram is cut to whole frames (every channel's sample): a stream of raw PCM has no markers,
so one odd-sized datagram would otherwise shift every later sample into the wrong channel or byte.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections import deque
from collections.abc import Callable
from typing import Final

from .raw_pcm_format import RawPcmFormat
from .raw_pcm_source import RawPcmSourceError

MIN_PORT: Final = 1024
MAX_PORT: Final = 65535
# The largest UDP payload over IPv4; anything larger cannot be one datagram.
MAX_DATAGRAM_BYTES: Final = 65507
# About 1.5 s of 48 kHz stereo s16le, 10 s of a 16 kHz mono microphone.
DEFAULT_MAX_BUFFERED_BYTES: Final = 256 * 1024


class UdpEndpointError(ValueError):
    """A listening address or port outside what Music Mood accepts; the message says what is."""


def validate_udp_endpoint(host: object, port: object) -> tuple[str, int]:
    """``(host, port)`` to bind: a literal unicast or unspecified IP address and port 1024-65535."""
    if not isinstance(host, str):
        raise UdpEndpointError(f"the listening address must be an IP address (got {host!r})")
    try:
        address = ipaddress.ip_address(host.strip())
    except ValueError as error:
        raise UdpEndpointError(
            f"the listening address must be an IP address of this machine such as 127.0.0.1 "
            f"(local senders only) or 0.0.0.0 (any interface), not a name (got {host[:60]!r})"
        ) from error
    if address.is_multicast:
        raise UdpEndpointError(f"{address} is a multicast group: give a local unicast address")
    if isinstance(port, bool) or not isinstance(port, int) or not MIN_PORT <= port <= MAX_PORT:
        raise UdpEndpointError(
            f"the UDP port must be a whole number from {MIN_PORT} to {MAX_PORT} (got {port!r})"
        )
    return str(address), port


class _DatagramBuffer(asyncio.DatagramProtocol):
    """Keeps whole frames of the newest datagrams, at most ``max_bytes`` of them."""

    def __init__(self, frame_bytes: int, max_datagram_bytes: int, max_bytes: int) -> None:
        self.frame_bytes = frame_bytes
        self.max_datagram_bytes = max_datagram_bytes
        self.max_bytes = max_bytes
        self.chunks: deque[bytes] = deque()
        self.buffered = 0
        self.received = 0
        self.dropped_datagrams = 0
        self.dropped_bytes = 0
        self.arrived = asyncio.Event()
        self.on_arrival: Callable[[], None] | None = None

    def datagram_received(self, data: bytes, addr: object) -> None:
        if len(data) > self.max_datagram_bytes:
            self.dropped_datagrams += 1
            self.dropped_bytes += len(data)
            return
        whole = len(data) - len(data) % self.frame_bytes
        self.dropped_bytes += len(data) - whole
        if whole == 0:
            return
        self.chunks.append(data[:whole])
        self.buffered += whole
        self.received += whole
        while self.buffered > self.max_bytes:
            oldest = self.chunks.popleft()
            self.buffered -= len(oldest)
            self.dropped_bytes += len(oldest)
        self.arrived.set()
        callback, self.on_arrival = self.on_arrival, None
        if callback is not None:
            callback()

    def take(self, max_bytes: int) -> bytes:
        """Up to ``max_bytes`` from the oldest datagrams, never splitting a frame."""
        limit = max(self.frame_bytes, max_bytes - max_bytes % self.frame_bytes)
        pieces: list[bytes] = []
        taken = 0
        while self.chunks and taken < limit:
            chunk = self.chunks.popleft()
            room = limit - taken
            if len(chunk) > room:
                self.chunks.appendleft(chunk[room:])
                chunk = chunk[:room]
            pieces.append(chunk)
            taken += len(chunk)
        self.buffered -= taken
        if not self.chunks:
            self.arrived.clear()
        return b"".join(pieces)


class UdpPcmReceiver:
    """A UDP socket bound to one local address and port while open; a UDP stream never ends."""

    def __init__(
        self,
        host: str,
        port: int,
        pcm_format: RawPcmFormat,
        *,
        max_datagram_bytes: int = MAX_DATAGRAM_BYTES,
        max_buffered_bytes: int = DEFAULT_MAX_BUFFERED_BYTES,
    ) -> None:
        self._host, self._port = validate_udp_endpoint(host, port)
        if not 0 < max_datagram_bytes <= MAX_DATAGRAM_BYTES:
            raise ValueError(f"max_datagram_bytes must be 1..{MAX_DATAGRAM_BYTES}")
        if max_buffered_bytes < pcm_format.frame_bytes:
            raise ValueError("max_buffered_bytes must hold at least one frame")
        self._format = pcm_format
        self._max_datagram_bytes = max_datagram_bytes
        self._max_buffered_bytes = max_buffered_bytes
        self._transport: asyncio.DatagramTransport | None = None
        self._buffer: _DatagramBuffer | None = None

    @property
    def description(self) -> str:
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"udp {host}:{self._port}"

    @property
    def received_bytes(self) -> int:
        return 0 if self._buffer is None else self._buffer.received

    @property
    def is_live(self) -> bool:
        return True

    @property
    def dropped_bytes(self) -> int:
        """Bytes thrown away: oversized datagrams, partial frames, audio nobody read in time."""
        return 0 if self._buffer is None else self._buffer.dropped_bytes

    @property
    def dropped_datagrams(self) -> int:
        """Datagrams larger than the accepted size, dropped whole."""
        return 0 if self._buffer is None else self._buffer.dropped_datagrams

    @property
    def buffered_bytes(self) -> int:
        return 0 if self._buffer is None else self._buffer.buffered

    @property
    def bound_port(self) -> int | None:
        if self._transport is None:
            return None
        return int(self._transport.get_extra_info("sockname")[1])

    async def open(self) -> None:
        """Bind the port; RawPcmSourceError if it is taken or the address is not this machine's."""
        if self._transport is not None:
            return
        loop = asyncio.get_running_loop()
        buffer = _DatagramBuffer(
            self._format.frame_bytes, self._max_datagram_bytes, self._max_buffered_bytes
        )
        try:
            transport, _protocol = await loop.create_datagram_endpoint(
                lambda: buffer, local_addr=(self._host, self._port), reuse_port=False
            )
        except OSError as error:
            raise RawPcmSourceError(
                f"cannot listen on {self.description}: {error.strerror or error} (is the port "
                "used by another program, or the address not one of this machine's?)"
            ) from error
        self._transport, self._buffer = transport, buffer

    def notify_on_arrival(self, callback: Callable[[], None]) -> Callable[[], None]:
        """``callback`` once the next datagram with audio arrives."""
        buffer = self._buffer
        if buffer is None:
            return _nothing
        buffer.on_arrival = callback

        def cancel() -> None:
            if buffer.on_arrival is callback:
                buffer.on_arrival = None

        return cancel

    async def read(self, max_bytes: int) -> bytes:
        """Whole frames once a datagram is there; a UDP source never reaches an end."""
        buffer = self._buffer
        if buffer is None:
            raise RawPcmSourceError(f"{self.description} is not open")
        while not buffer.chunks:
            await buffer.arrived.wait()
        return buffer.take(max_bytes)

    def close(self) -> None:
        transport, self._transport = self._transport, None
        if transport is not None:
            transport.close()


def _nothing() -> None:
    return None
