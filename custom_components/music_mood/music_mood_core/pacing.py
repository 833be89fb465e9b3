"""Reading a source no faster than it plays.

A media player playing an http file (DLNA, Kodi, MPD, media-source URLs) lets ffmpeg decode as fast
as the network allows: without pacing the analyser runs minutes ahead of what the room hears. The
pacer lets the reader take audio only as fast as a player would play it, after a head start of one
excerpt so the first reading is not delayed. ffmpeg's own ``-re`` is not used for network inputs:
its documentation warns that it can cause packet loss on live input streams, while this pacer never
delays a stream that arrives at (or below) its native rate.

Together with the reader's back-pressure (FfmpegPcmProcess stops reading ffmpeg's output once a few
hops wait), a paced reader makes ffmpeg, and through TCP the server, wait too.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class NativeRatePacer:
    """Says how long to wait before reading up to a given sample position."""

    def __init__(
        self,
        sample_rate: int,
        head_start_samples: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if sample_rate <= 0:
            raise ValueError(f"sample_rate must be positive (got {sample_rate})")
        self._sample_rate = sample_rate
        self._head_start = max(0, int(head_start_samples))
        self._clock = clock
        self._started_at: float | None = None

    def audio_started(self) -> None:
        """The first audio arrived: the native-rate clock starts now (connecting is not playing)."""
        if self._started_at is None:
            self._started_at = self._clock()

    def delay_s(self, position: int) -> float:
        """Seconds to wait before the audio up to sample ``position`` may be read (0: read now)."""
        if self._started_at is None:
            return 0.0
        due_at = self._started_at + (position - self._head_start) / self._sample_rate
        return max(0.0, due_at - self._clock())
