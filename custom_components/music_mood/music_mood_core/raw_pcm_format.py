"""The declared format of a raw-PCM source (a FIFO, a pipe file or UDP datagrams).

Raw PCM carries no header: the administrator declares its rate, channels and sample format, and
everything downstream trusts that declaration. So it is checked strictly, and only values ffmpeg's
raw demuxers read without probing are accepted; the values reach ffmpeg as separate arguments.

Text form (stored and shown): ``RATE:FORMAT:CHANNELS``, e.g. ``48000:s16le:2`` (Snapcast's default
output) or ``16000:s16le:1`` (an ESPHome microphone); the order follows Snapcast's
``48000:16:2``, but the sample format is named, because "32" alone cannot tell int from float.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

MIN_SAMPLE_RATE: Final = 8000
MAX_SAMPLE_RATE: Final = 48000
MIN_CHANNELS: Final = 1
MAX_CHANNELS: Final = 2
# Sample format name (ffmpeg's raw demuxer of the same name) -> bytes per sample.
SAMPLE_FORMATS: Final = {"s16le": 2, "s32le": 4, "f32le": 4}
_TEXT_FORM: Final = re.compile(
    r"(?P<rate>[0-9]{1,6}):(?P<format>[a-z0-9]{1,8}):(?P<channels>[0-9])"
)


class RawPcmFormatError(ValueError):
    """A declared raw-PCM format outside what Music Mood accepts; the message says what is."""


@dataclass(frozen=True, slots=True)
class RawPcmFormat:
    """A validated declaration: construct it through :meth:`declared` or :func:`parse_format`."""

    sample_rate: int
    channels: int
    sample_format: str

    @classmethod
    def declared(cls, sample_rate: object, channels: object, sample_format: object) -> RawPcmFormat:
        """The format if every part is in range; RawPcmFormatError naming the first that is not."""
        if (
            isinstance(sample_rate, bool)
            or not isinstance(sample_rate, int)
            or not MIN_SAMPLE_RATE <= sample_rate <= MAX_SAMPLE_RATE
        ):
            raise RawPcmFormatError(
                f"the sample rate must be a whole number of Hz from {MIN_SAMPLE_RATE} to "
                f"{MAX_SAMPLE_RATE} (got {sample_rate!r})"
            )
        if (
            isinstance(channels, bool)
            or not isinstance(channels, int)
            or not MIN_CHANNELS <= channels <= MAX_CHANNELS
        ):
            raise RawPcmFormatError(
                f"the channel count must be {MIN_CHANNELS} (mono) or {MAX_CHANNELS} (stereo) "
                f"(got {channels!r})"
            )
        if not isinstance(sample_format, str) or sample_format not in SAMPLE_FORMATS:
            raise RawPcmFormatError(
                f"the sample format must be one of {', '.join(SAMPLE_FORMATS)} "
                f"(got {str(sample_format)[:20]!r})"
            )
        return cls(sample_rate, channels, sample_format)

    @property
    def bytes_per_sample(self) -> int:
        return SAMPLE_FORMATS[self.sample_format]

    @property
    def frame_bytes(self) -> int:
        """Bytes of one sample of every channel: the unit a stream must never be split inside."""
        return self.bytes_per_sample * self.channels

    @property
    def bytes_per_second(self) -> int:
        return self.frame_bytes * self.sample_rate

    @property
    def text(self) -> str:
        return f"{self.sample_rate}:{self.sample_format}:{self.channels}"

    def ffmpeg_input_options(self) -> tuple[str, ...]:
        """Options before ``-i`` that make ffmpeg read exactly this format, without probing."""
        return ("-f", self.sample_format, "-ar", str(self.sample_rate), "-ac", str(self.channels))


def parse_format(text: object) -> RawPcmFormat:
    """A format from its text form ``RATE:FORMAT:CHANNELS`` (e.g. ``48000:s16le:2``)."""
    if not isinstance(text, str):
        raise RawPcmFormatError(f"a raw-PCM format is text like 48000:s16le:2 (got {text!r})")
    match = _TEXT_FORM.fullmatch(text.strip().lower())
    if match is None:
        raise RawPcmFormatError(
            f"a raw-PCM format is written RATE:FORMAT:CHANNELS, e.g. 48000:s16le:2 "
            f"(got {text[:40]!r})"
        )
    return RawPcmFormat.declared(int(match["rate"]), int(match["channels"]), match["format"])
