"""What the raw-PCM tests play and how they stop what they start: generated music, a FIFO writer
and a process stopped the way a service manager stops it."""

from __future__ import annotations

import signal
import subprocess
import threading
from pathlib import Path

import numpy as np
from numpy.typing import NDArray


def chords(seconds: float, sample_rate: int, seed: int, sides: int = 1) -> NDArray[np.int16]:
    """(samples, sides) int16: chords changing every 0.5 s over a little noise, a line per side:
    something for the model to hear."""
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * sample_rate)) / sample_rate
    segment = np.floor(t / 0.5).astype(np.int64)
    roots = 110.0 * 2.0 ** (rng.integers(0, 24, (sides, segment.max() + 1)) / 12.0)
    lines = [
        sum(np.sin(2 * np.pi * roots[side][segment] * ratio * t) for ratio in (1, 1.25, 1.5)) / 4
        + 0.01 * rng.standard_normal(t.size)
        for side in range(sides)
    ]
    return (np.clip(np.stack(lines, 1), -1, 1) * 32767).round().astype(np.int16)


def chords_s16le(seconds: float, seed: int = 5) -> bytes:
    """48 kHz stereo s16le :func:`chords`."""
    return chords(seconds, 48000, seed, sides=2).astype("<i2").tobytes()


def write_into(fifo: Path, data: bytes) -> threading.Thread:
    """A player: opens the FIFO (waiting for a reader, as players do), writes, closes."""

    def run() -> None:
        with fifo.open("wb") as out:
            out.write(data)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after 5 s, and always reaped."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
