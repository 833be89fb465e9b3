"""The far end of a serial strip: a socat pair that keeps its peer open, and an Adalight parser."""

from __future__ import annotations

from pathlib import Path

import serial

from tests.serial_pty import SocatPair


class ConnectedSocatPair(SocatPair):
    """A socat pair whose peer end stays open from start to stop: nothing sent is lost."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.peer: serial.Serial | None = None

    def start(self) -> None:
        super().start()
        self.peer = self.open_peer(timeout=0.2)

    def stop(self) -> None:
        if self.peer is not None:
            self.peer.close()
            self.peer = None
        super().stop()

    def read_all(self) -> bytes:
        """Everything that has arrived at the peer until the line goes quiet."""
        assert self.peer is not None
        data = b""
        while chunk := self.peer.read(4096):
            data += chunk
        return data


def adalight_frames(data: bytes) -> list[bytes]:
    """Split a byte stream into Adalight frames, checking every header's checksum."""
    frames = []
    position = data.find(b"Ada")
    while position != -1 and position + 6 <= len(data):
        high, low, checksum = data[position + 3], data[position + 4], data[position + 5]
        assert checksum == high ^ low ^ 0x55
        end = position + 6 + 3 * ((high << 8 | low) + 1)
        assert end <= len(data), "truncated frame"
        frames.append(data[position:end])
        position = data.find(b"Ada", end)
    return frames
