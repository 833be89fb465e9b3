"""The declared raw-PCM format: accepted exactly within its grammar, refused with a clear reason."""

from __future__ import annotations

import pytest
from music_mood_core.raw_pcm_format import RawPcmFormat, RawPcmFormatError, parse_format


@pytest.mark.parametrize(
    ("text", "rate", "channels", "sample_format", "frame_bytes"),
    [
        ("48000:s16le:2", 48000, 2, "s16le", 4),
        ("8000:s16le:1", 8000, 1, "s16le", 2),
        ("16000:s32le:1", 16000, 1, "s32le", 4),
        (" 44100:F32LE:2 ", 44100, 2, "f32le", 8),
    ],
)
def test_formats_in_the_grammar_parse_to_their_parts(
    text: str, rate: int, channels: int, sample_format: str, frame_bytes: int
) -> None:
    pcm_format = parse_format(text)
    assert (pcm_format.sample_rate, pcm_format.channels) == (rate, channels)
    assert pcm_format.sample_format == sample_format
    assert pcm_format.frame_bytes == frame_bytes
    assert pcm_format.bytes_per_second == frame_bytes * rate
    assert parse_format(pcm_format.text) == pcm_format
    assert pcm_format.ffmpeg_input_options() == (
        "-f", sample_format, "-ar", str(rate), "-ac", str(channels)
    )  # fmt: skip


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("7999:s16le:1", "sample rate"),
        ("48001:s16le:2", "sample rate"),
        ("96000:s16le:2", "sample rate"),
        ("48000:s16le:0", "channel count"),
        ("48000:s16le:3", "channel count"),
        ("48000:s24le:2", "sample format"),
        ("48000:u8:2", "sample format"),
        ("48000:16:2", "sample format"),  # Snapcast's bits form: int or float cannot be told
        ("48000:s16le", "RATE:FORMAT:CHANNELS"),
        ("48000:s16le:2 -i /etc/passwd", "RATE:FORMAT:CHANNELS"),
        ("", "RATE:FORMAT:CHANNELS"),
    ],
)
def test_formats_outside_the_grammar_are_refused_naming_the_wrong_part(
    text: str, names: str
) -> None:
    with pytest.raises(RawPcmFormatError, match=names):
        parse_format(text)


@pytest.mark.parametrize(
    ("rate", "channels", "sample_format"),
    [
        (True, 2, "s16le"),
        (48000.0, 2, "s16le"),
        ("48000", 2, "s16le"),
        (48000, 2.0, "s16le"),
        (48000, False, "s16le"),
        (48000, 2, None),
        (48000, 2, "S16LE"),  # the form's select gives the exact names
    ],
)
def test_declared_parts_must_have_the_exact_types(
    rate: object, channels: object, sample_format: object
) -> None:
    with pytest.raises(RawPcmFormatError):
        RawPcmFormat.declared(rate, channels, sample_format)


def test_non_text_is_refused() -> None:
    with pytest.raises(RawPcmFormatError, match="text like"):
        parse_format(48000)
