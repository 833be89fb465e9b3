"""Whole-source analysis for the ``music_mood.analyze`` action, bounded whatever the input.

ffmpeg's output is read in chunks of a few seconds and each chunk is analysed before the next is
read; the reader's back-pressure pauses ffmpeg meanwhile. Memory therefore holds one chunk, the
excerpt ring buffer and the timeline (a few floats per half second of audio), never the decode. The
analysed duration is capped (an endless stream or a tiny file that decodes to hours of audio is
refused once it passes the cap) and the whole call has a time limit.

The numbers are the live analyser's: same ffmpeg arguments, and the core's one PCM -> readings
path (``timeline_step``) on the model's own grid, excerpt, hop and format.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Final

import numpy as np
from homeassistant.core import HomeAssistant
from homeassistant.util.json import JsonValueType

from .audio_source import FfmpegInput
from .music_mood_core.audio import BYTES_PER_SAMPLE
from .music_mood_core.ffmpeg_process import FfmpegPcmProcess, FfmpegStartError
from .music_mood_core.model import MoodModel
from .music_mood_core.timeline import TIMELINE_CHUNK_HOPS, Timeline, timeline_step

# Documented in the README (analyze action): the most audio one call reads, and its time limit.
MAX_DURATION_S: Final = 30 * 60.0
TIMEOUT_S: Final = 300.0
# Chunks ffmpeg may decode ahead of the analysis before it is paused.
_CHUNKS_BUFFERED: Final = 2


class AnalysisTooLongError(Exception):
    """The source holds more audio than ``max_duration_s``."""


class AnalysisTimeoutError(Exception):
    """Reading and analysing the source took longer than ``timeout_s``."""


class AnalysisReadError(Exception):
    """ffmpeg could not deliver audio; the message is ffmpeg's (redacted) last words."""


@dataclass(frozen=True, slots=True)
class AnalysisLimits:
    """What one analyze call may cost."""

    max_duration_s: float = MAX_DURATION_S
    timeout_s: float = TIMEOUT_S


@dataclass(slots=True)
class AnalysisStats:
    """What a call actually used: audio read and the most unread PCM held at once."""

    samples_read: int = 0
    peak_buffered_bytes: int = 0


async def async_analyze_timeline(
    hass: HomeAssistant,
    ffmpeg_input: FfmpegInput,
    model: MoodModel,
    ffmpeg_binary: str,
    *,
    limits: AnalysisLimits,
    stats: AnalysisStats | None = None,
) -> list[JsonValueType]:
    """Predict every hop of ``ffmpeg_input``; ``time`` = excerpt end in seconds."""
    stats = AnalysisStats() if stats is None else stats
    info = model.info
    sample_rate = int(info.sample_rate)
    stream = info.excerpt_stream()
    max_samples = round(limits.max_duration_s * sample_rate)
    # One executor job per chunk of hops, as the core's whole-file timeline: few jobs, small chunks.
    chunk_bytes = stream.hop_samples * TIMELINE_CHUNK_HOPS * BYTES_PER_SAMPLE
    process = FfmpegPcmProcess(
        ffmpeg_input.command(ffmpeg_binary, sample_rate, live=False),
        max_buffered_bytes=_CHUNKS_BUFFERED * chunk_bytes,
    )
    timeline: list[JsonValueType] = []
    try:
        async with asyncio.timeout(limits.timeout_s):
            await process.start()
            while chunk := await process.read_chunk(chunk_bytes):
                pcm = np.frombuffer(chunk[: len(chunk) - len(chunk) % BYTES_PER_SAMPLE], "<i2")
                stats.samples_read += pcm.size
                stats.peak_buffered_bytes = process.peak_buffered_bytes
                if stats.samples_read > max_samples:
                    raise AnalysisTooLongError
                readings = await hass.async_add_executor_job(timeline_step, stream, model, pcm)
                timeline.extend(_as_json(readings))
    except FfmpegStartError as error:
        raise AnalysisReadError(str(error)) from error
    except TimeoutError as error:
        raise AnalysisTimeoutError from error
    finally:
        await process.close()
    if process.returncode != 0:
        raise AnalysisReadError(process.describe_failure())
    if stats.samples_read == 0:
        raise AnalysisReadError(f"no audio samples ({process.describe_failure()})")
    return timeline


def _as_json(readings: Timeline) -> list[JsonValueType]:
    """The action's documented shape: ``time`` = excerpt end in seconds, 4 decimals."""
    return [
        {
            "time": round(float(time_s), 4),
            "valence": round(float(valence), 4),
            "arousal": round(float(arousal), 4),
        }
        for time_s, valence, arousal in zip(
            readings.times_s, readings.valence, readings.arousal, strict=True
        )
    ]
