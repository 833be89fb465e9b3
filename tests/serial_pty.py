"""A socat pseudo-terminal pair for serial tests: the strip writes to one end, the test reads the
other, byte for byte.

Strips open only device paths under /dev/, so the pair's links live in a fresh directory under
/dev/shm (the one place under /dev/ a test may write); they point at the ptys in /dev/pts.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
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

DEVICE_TEST_ROOT = Path("/dev/shm")


def device_directory() -> Iterator[Path]:
    """Fixture body: an empty directory under /dev/ for device links, removed afterwards."""
    if not os.access(DEVICE_TEST_ROOT, os.W_OK):
        pytest.skip(f"{DEVICE_TEST_ROOT} is not writable: no place under /dev/ for test ptys")
    directory = Path(tempfile.mkdtemp(prefix="music-mood-test-", dir=DEVICE_TEST_ROOT))
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def running(pair: PairT) -> Iterator[PairT]:
    """Fixture body: the pair started, and stopped afterwards; skips where socat is missing."""
    if shutil.which("socat") is None:
        pytest.skip("socat is not installed")
    pair.start()
    yield pair
    pair.stop()
