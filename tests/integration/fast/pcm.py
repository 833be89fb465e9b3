"""A PCM source that plays generated int16 audio instead of running ffmpeg.

It implements the stream loop's `PcmSource` / `PcmStream` protocols, so everything after the
decoder runs for real: features, the ONNX model, the mood tracker, the coordinator, the entities.
The test decides what is heard and when (``play``), and ``until_idle`` returns once the loop has
taken every hop played so far and waits for more, so each reading it caused has been published.
Stalls and outages come from the stream loop's own timeouts, which the freezer drives.
"""

from __future__ import annotations

import asyncio
from typing import Final

import numpy as np
import numpy.typing as npt

from custom_components.music_mood.music_mood_core.pcm_source import PcmFormat

SAMPLE_RATE: Final = 22050
_FULL_SCALE: Final = 32767
Pcm = npt.NDArray[np.int16]


def tone(seconds: float, *, frequency: float = 440.0, level: float = 0.5) -> Pcm:
    """A sine at ``level`` of full scale, as int16 samples."""
    t = np.arange(round(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return np.round(level * _FULL_SCALE * np.sin(2 * np.pi * frequency * t)).astype(np.int16)


def chord(seconds: float, frequencies: tuple[float, ...], *, level: float = 0.5) -> Pcm:
    """Several sines of equal level (louder, richer spectrum than one tone)."""
    parts = [tone(seconds, frequency=f, level=level / len(frequencies)) for f in frequencies]
    return np.asarray(np.sum(parts, axis=0, dtype=np.int16), dtype=np.int16)


def noise(seconds: float, *, level: float = 0.3, seed: int = 7) -> Pcm:
    """Reproducible white noise."""
    rng = np.random.default_rng(seed)
    samples = rng.uniform(-level, level, round(seconds * SAMPLE_RATE)) * _FULL_SCALE
    return np.round(samples).astype(np.int16)


def silence(seconds: float) -> Pcm:
    return np.zeros(round(seconds * SAMPLE_RATE), dtype=np.int16)


class GeneratedPcmStream:
    """One stream as the loop opened it: bytes the test played, handed out on request."""

    def __init__(self, source: GeneratedPcmSource, pcm_format: PcmFormat) -> None:
        self.format = pcm_format
        self._source = source
        self._buffer = bytearray()
        self._changed = asyncio.Event()
        self.started = False
        self.closed = False
        self.ended = False
        self._interrupted = False
        # Set while the reader waits for audio the test has not played yet, and once closed.
        self.idle = asyncio.Event()

    @property
    def pid(self) -> int | None:
        return None

    @property
    def peak_buffered_bytes(self) -> int:
        return 0

    async def start(self) -> None:
        if self._source.refuse_to_start is not None:
            raise OSError(self._source.refuse_to_start)
        self.started = True

    def feed(self, data: bytes) -> None:
        self._buffer += data
        # Not idle any more until the reader has taken what it can and asks again.
        if not self.closed:
            self.idle.clear()
        self._changed.set()

    def end(self) -> None:
        self.ended = True
        self._changed.set()

    async def read_exactly(self, n_bytes: int, timeout_s: float) -> bytes:
        async with asyncio.timeout(timeout_s):
            while len(self._buffer) < n_bytes:
                if self.ended or self._interrupted:
                    raise EOFError("the generated audio ended")
                self._changed.clear()
                self.idle.set()
                try:
                    await self._changed.wait()
                finally:
                    self.idle.clear()
        data = bytes(self._buffer[:n_bytes])
        del self._buffer[:n_bytes]
        return data

    def interrupt(self) -> None:
        self._interrupted = True
        self._changed.set()

    async def close(self) -> None:
        self.closed = True
        self.idle.set()


class GeneratedPcmSource:
    """What the analyser's coordinator resolves its source to in the fast tier."""

    real_time = True
    knows_play_time = False

    def __init__(self) -> None:
        self.streams: list[GeneratedPcmStream] = []
        # An OSError message: the next streams fail to start, as ffmpeg does on a dead URL.
        self.refuse_to_start: str | None = None
        self._opened = asyncio.Event()

    def open(self, pcm_format: PcmFormat) -> GeneratedPcmStream:
        assert pcm_format.sample_rate == SAMPLE_RATE, "the fixture model runs at 22050 Hz"
        stream = GeneratedPcmStream(self, pcm_format)
        self.streams.append(stream)
        self._opened.set()
        return stream

    @property
    def stream(self) -> GeneratedPcmStream:
        """The stream the loop opened last."""
        assert self.streams, "the stream loop has not opened a stream yet"
        return self.streams[-1]

    async def until_open(self, count: int = 1) -> GeneratedPcmStream:
        """The loop's ``count``-th stream, once the loop reads it (or has closed it again)."""
        while len(self.streams) < count:
            self._opened.clear()
            await self._opened.wait()
        stream = self.streams[count - 1]
        await stream.idle.wait()
        return stream

    async def play(self, samples: Pcm) -> None:
        """Play ``samples`` into the open stream and return once the loop has taken them all."""
        stream = await self.until_open(len(self.streams) or 1)
        stream.feed(samples.astype("<i2").tobytes())
        await self.until_idle()

    async def until_idle(self) -> None:
        """Return once the loop waits for more audio (every hop played has been published) or
        has closed the stream (a restart, a stop)."""
        await self.stream.idle.wait()
