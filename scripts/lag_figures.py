"""Pure parts of scripts/measure_lag.py: test audio, where the music starts, lag figures.

Nothing here starts a process or touches the clock: generated PCM, the sample where music follows
the leading silence, when a sender pacing audio in chunks sends a sample, and the median, min and
max of a set of lags, printed as one table per route.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np


def generated_music(seconds: float, sample_rate: int, channels: int, silence_s: float) -> bytes:
    """s16le interleaved chords changing every 0.5 s over faint noise, after digital silence.

    The silence lets a measurement find where the music starts in what a receiver got, so its
    samples can be matched to the sender's whatever the receiver dropped before it.
    """
    rng = np.random.default_rng(9)
    t = np.arange(round(seconds * sample_rate)) / sample_rate
    segment = np.floor(t / 0.5).astype(np.int64)
    roots = 110.0 * 2.0 ** (rng.integers(0, 24, segment.max() + 1) / 12.0)
    mono = sum(np.sin(2 * np.pi * roots[segment] * r * t) for r in (1, 1.25, 1.5)) / 4
    mono = mono + 0.01 * rng.standard_normal(t.size)
    frames = np.repeat(np.clip(mono, -1, 1)[:, None], channels, axis=1)
    pcm = (frames * 32767).round().astype("<i2")
    silence = np.zeros((round(silence_s * sample_rate), channels), dtype="<i2")
    return bytes(np.concatenate([silence, pcm]).tobytes())


def first_nonzero_frame(data: bytes, frame_bytes: int) -> int | None:
    """Index of the first frame of s16le ``data`` holding a sample other than 0; None if none."""
    whole = len(data) - len(data) % frame_bytes
    samples = np.frombuffer(data[:whole], dtype="<i2").reshape(-1, frame_bytes // 2)
    hits = np.flatnonzero(samples.any(axis=1))
    return int(hits[0]) if hits.size else None


def paced_send_time(started_at: float, frame: int, chunk_frames: int, sample_rate: int) -> float:
    """When a sender writing chunk ``k`` at ``started_at + k * chunk duration`` sends ``frame``."""
    return started_at + (frame // chunk_frames) * chunk_frames / sample_rate


def resampled_frame(
    model_sample: int, model_rate: int, onset_model: float, onset_frame: int, source_rate: int
) -> int:
    """The source frame (at ``source_rate``) heard as the analyser's sample ``model_sample``.

    ``onset_model`` and ``onset_frame`` are where the music starts on each side.
    """
    return onset_frame + round((model_sample - onset_model) * source_rate / model_rate)


@dataclass(frozen=True, slots=True)
class LagFigures:
    """Median, min and max of a set of lags, in milliseconds, and how many there were."""

    median_ms: float
    min_ms: float
    max_ms: float
    count: int

    @classmethod
    def of(cls, lags_s: Sequence[float]) -> LagFigures:
        if not lags_s:
            raise ValueError("no lags to summarise (no reading of music was released)")
        return cls(
            median_ms=statistics.median(lags_s) * 1000.0,
            min_ms=min(lags_s) * 1000.0,
            max_ms=max(lags_s) * 1000.0,
            count=len(lags_s),
        )


@dataclass(frozen=True, slots=True)
class LagRow:
    """One measured line of a route's table."""

    delay_s: float
    figures: LagFigures
    note: str = ""


def lag_table(route: str, measured_against: str, rows: Sequence[LagRow]) -> str:
    """A plain-text table: one line per delay, lags in ms (positive: readings after the audio)."""
    lines = [
        f"{route}: lag = reading released - {measured_against}",
        f"{'delay':>7} {'median':>8} {'min':>8} {'max':>8} {'n':>4}  note",
    ]
    for row in rows:
        figures = row.figures
        lines.append(
            f"{row.delay_s:>+6.1f}s {figures.median_ms:>6.0f}ms {figures.min_ms:>6.0f}ms "
            f"{figures.max_ms:>6.0f}ms {figures.count:>4}  {row.note}".rstrip()
        )
    return "\n".join(lines)


def music_lags(
    released: Iterable[tuple[int, float]],
    music_ends: tuple[float, float],
    heard_at: Callable[[int], float | None],
) -> list[float]:
    """``released_at - heard_at(end_sample)`` for each released ``(end_sample, released_at)``
    whose excerpt holds music only: it ends after the first excerpt of music and no later than the
    music (``music_ends``, in the same samples); unknown times are left out.
    """
    first_end, last_end = music_ends
    lags = []
    for end_sample, released_at in released:
        if not first_end < end_sample <= last_end:
            continue
        heard = heard_at(end_sample)
        if heard is not None:
            lags.append(released_at - heard)
    return lags
