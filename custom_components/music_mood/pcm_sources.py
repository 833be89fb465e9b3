"""An analyser's configured source as the stream loop's `PcmSource`, resolved at each (re)start.

Most source types resolve to one validated ffmpeg input (a URL, file or capture device, a
camera's stream, a media player's media, a Music Assistant group's stream), decoded by
`FfmpegPcmSource`. A source type that delivers PCM by other means returns its own `PcmSource` here:
a Sendspin player hands over the PCM Music Assistant sends it, at the model's sample rate.
"""

from __future__ import annotations

from collections.abc import Callable

from .audio_source import REASON_INVALID_SOURCE, AudioSource, SourceError
from .music_mood_core.pcm_source import (
    FfmpegPcmSource,
    PcmFormat,
    PcmSource,
    SourceUnavailableError,
)
from .music_mood_core.stream_loop import StreamStatus

# Source refusals that describe what a player plays, not an outage (see SourceUnavailableError).
_PLAYER_CONDITIONS = frozenset({StreamStatus.WAITING_FOR_MEDIA, StreamStatus.UNSUPPORTED_MEDIA})


async def async_resolve_pcm_source(
    source: AudioSource,
    ffmpeg_binary: str,
    *,
    loop_file: bool,
    sample_rate: Callable[[], int] | None = None,
) -> PcmSource:
    """What ``source`` plays now; what it cannot give becomes SourceUnavailableError.

    ``sample_rate`` gives the current model's rate, which a Sendspin player asks the server for.
    """
    if source.sendspin is not None and sample_rate is not None:
        return await source.async_resolve_sendspin(sample_rate())
    if source.raw_pcm is not None:
        return await source.raw_pcm.async_resolve(ffmpeg_binary)
    try:
        ffmpeg_input = await source.async_resolve()
    except SourceError as error:
        kind = StreamStatus.SOURCE_ERROR
        if error.reason in _PLAYER_CONDITIONS:
            kind = StreamStatus(error.reason)
        detail = f"{error.reason}: {error.detail}" if error.detail else error.reason
        raise SourceUnavailableError(kind, detail) from error
    except OSError as error:  # a file check the source could not make (e.g. a too long name)
        detail = f"{REASON_INVALID_SOURCE}: {error.strerror or error}"
        raise SourceUnavailableError(StreamStatus.SOURCE_ERROR, detail) from error

    def command(pcm_format: PcmFormat) -> list[str]:
        return ffmpeg_input.command(
            ffmpeg_binary,
            pcm_format.sample_rate,
            live=True,
            loop=loop_file,
            frame_samples=pcm_format.hop_samples,
        )

    # Capture devices deliver in real time by nature; everything else could run ahead.
    return FfmpegPcmSource(command, real_time=ffmpeg_input.is_capture_device)
