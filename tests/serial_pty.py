"""A socat pseudo-terminal pair for serial tests: the strip writes to one end, the test reads the
other, byte for byte."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

import pytest
import serial


class SocatPair:
    """Two linked pseudo-terminals: the strip opens ``strip_path``, the test reads ``peer_path``.

    Both are stable symlinks, so stopping and starting socat looks like unplugging and replugging
    a USB adapter at the same device path.
    """

    def __init__(self, directory: Path) -> None:
        self.strip_path = directory / "strip"
        self.peer_path = directory / "peer"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        socat = shutil.which("socat")
        assert socat is not None
        self.process = subprocess.Popen(
            [
                socat,
                f"pty,raw,echo=0,link={self.strip_path}",
                f"pty,raw,echo=0,link={self.peer_path}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not (self.strip_path.exists() and self.peer_path.exists()):
            assert time.monotonic() < deadline, "socat did not create its ptys"
            time.sleep(0.02)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None
        deadline = time.monotonic() + 10
        while self.strip_path.exists() or self.peer_path.exists():
            assert time.monotonic() < deadline, "socat did not remove its links"
            time.sleep(0.02)

    def open_peer(self, timeout: float) -> serial.Serial:
        return serial.Serial(str(self.peer_path), timeout=timeout)


PairT = TypeVar("PairT", bound=SocatPair)


def running(pair: PairT) -> Iterator[PairT]:
    """Fixture body: the pair started, and stopped afterwards; skips where socat is missing."""
    if shutil.which("socat") is None:
        pytest.skip("socat is not installed")
    pair.start()
    yield pair
    pair.stop()
