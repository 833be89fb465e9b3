"""An analyser's configured source as the stream loop's `PcmSource`, resolved at each (re)start.

Today every source type resolves to one validated ffmpeg input (a URL, file or capture device, a
camera's stream, a media player's media), decoded by `FfmpegPcmSource`. A source type that
delivers PCM by other means returns its own `PcmSource` here.
"""

from __future__ import annotations

from .audio_source import REASON_INVALID_SOURCE, AudioSource, SourceError
from .music_mood_core.pcm_source import FfmpegPcmSource, PcmFormat, SourceUnavailableError
from .music_mood_core.stream_loop import StreamStatus

# Source refusals that describe what a player plays, not an outage (see SourceUnavailableError).
_PLAYER_CONDITIONS = frozenset({StreamStatus.WAITING_FOR_MEDIA, StreamStatus.UNSUPPORTED_MEDIA})


async def async_resolve_pcm_source(
    source: AudioSource, ffmpeg_binary: str, *, loop_file: bool
) -> FfmpegPcmSource:
    """What ``source`` plays now; what it cannot give becomes SourceUnavailableError."""
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
