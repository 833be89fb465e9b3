"""One ffmpeg argument list for all decoding (training, offline, live), plus safety helpers.

Training and the live pipeline decode through the same arguments, so the same decoder and resampler
produce the samples the model sees in both.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from os import PathLike
from typing import Final

import numpy as np
from numpy.typing import NDArray

from .redaction import redact_source, redact_url

__all__ = [
    "BYTES_PER_SAMPLE",
    "PCM_FORMAT",
    "AudioDecodeError",
    "UnsafeSourceError",
    "decode_file",
    "ffmpeg_pcm_command",
    "hop_grouping_options",
    "redact_source",
    "redact_url",
    "validate_source",
]

PCM_FORMAT: Final = "s16le"
BYTES_PER_SAMPLE: Final = 2
_STDERR_TAIL_CHARS: Final = 1500
_FORBIDDEN_CHARACTERS: Final = ("\x00", "\n", "\r")


class UnsafeSourceError(ValueError):
    """A source that ffmpeg could misread as an option or that holds control characters."""


class AudioDecodeError(RuntimeError):
    """ffmpeg could not decode the input (message carries ffmpeg's redacted stderr tail)."""


def validate_source(source: str) -> None:
    """Reject sources ffmpeg would treat as options, and empty or multi-line sources."""
    if not isinstance(source, str) or not source.strip():
        raise UnsafeSourceError("the audio source is empty")
    if any(character in source for character in _FORBIDDEN_CHARACTERS):
        raise UnsafeSourceError("the audio source must not contain NUL or line breaks")
    if source.lstrip().startswith("-"):
        # Relative paths are refused anyway (they would depend on Home Assistant's working
        # directory and could not be checked against the allow-listed folders), so the advice that
        # works is the absolute path.
        raise UnsafeSourceError(
            f"the audio source must not start with '-' (got {redact_source(source)!r}): ffmpeg "
            "would read it as an option. For a file whose name starts with '-', give its absolute "
            "path (e.g. /media/music/-track.ogg) or a file: URL"
        )


def ffmpeg_pcm_command(
    source: str,
    sample_rate: int,
    *,
    ffmpeg_binary: str = "ffmpeg",
    realtime: bool = False,
    loop: bool = False,
    input_options: Sequence[str] = (),
) -> list[str]:
    """ffmpeg arguments that decode ``source`` to mono signed 16-bit little-endian PCM on stdout."""
    validate_source(source)
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, int) or sample_rate <= 0:
        raise ValueError(f"sample_rate must be a positive integer (got {sample_rate!r})")
    if isinstance(input_options, str):
        raise TypeError("input_options must be a sequence of separate arguments, not one string")
    for option in input_options:
        if any(character in option for character in _FORBIDDEN_CHARACTERS):
            raise UnsafeSourceError("ffmpeg input options must not contain NUL or line breaks")
    command = [ffmpeg_binary, "-nostdin", "-hide_banner", "-loglevel", "error"]
    if realtime:
        command.append("-re")  # read at native speed: a file then behaves like a live source
    if loop:
        command += ["-stream_loop", "-1"]
    command += [*input_options, "-i", source]
    command += ["-vn", "-ac", "1", "-ar", str(sample_rate)]
    command += ["-acodec", "pcm_s16le", "-f", PCM_FORMAT, "pipe:1"]
    return command


def hop_grouping_options(sample_rate: int, frame_samples: int) -> list[str]:
    """ffmpeg output options grouping the decoded audio into frames of ``frame_samples``.

    Grouping only regroups samples (values are untouched), but ffmpeg then writes a few large pieces
    per hop instead of dozens of small ones, each a wake-up for the reader. The group is counted at
    the model's rate: ffmpeg converts to ``-ar`` after the ``-af`` chain, so without resampling
    first the group would count the source's samples (a hop of 11 025 is 0.69 s of a 16 kHz
    source) and hold each reading back by up to that long. Resampling first gives the same
    samples, bit for bit.
    """
    return ["-af", f"aresample={int(sample_rate)},asetnsamples=n={int(frame_samples)}:p=0"]


def _stderr_tail(stderr: bytes) -> str:
    text = stderr.decode("utf-8", errors="replace").strip()
    return redact_url(text[-_STDERR_TAIL_CHARS:]) or "(no message)"


def decode_file(
    path: str | PathLike[str],
    sample_rate: int,
    *,
    ffmpeg_binary: str = "ffmpeg",
    timeout_s: float = 300,
) -> NDArray[np.int16]:
    """Decode a whole file (or any finite ffmpeg input) to mono int16 samples at ``sample_rate``."""
    source = str(path)
    command = ffmpeg_pcm_command(source, sample_rate, ffmpeg_binary=ffmpeg_binary)
    shown = redact_source(source)
    try:
        # An argument list, never a shell; the source was validated by ffmpeg_pcm_command.
        completed = subprocess.run(command, capture_output=True, timeout=timeout_s, check=False)
    except FileNotFoundError as error:
        raise AudioDecodeError(f"ffmpeg executable {ffmpeg_binary!r} was not found") from error
    except subprocess.TimeoutExpired as error:
        raise AudioDecodeError(f"decoding {shown!r} took longer than {timeout_s} s") from error
    if completed.returncode != 0:
        raise AudioDecodeError(
            f"ffmpeg could not decode {shown!r} (exit {completed.returncode}): "
            f"{_stderr_tail(completed.stderr)}"
        )
    usable = len(completed.stdout) - len(completed.stdout) % BYTES_PER_SAMPLE
    if usable == 0:
        raise AudioDecodeError(
            f"ffmpeg produced no audio samples from {shown!r}: {_stderr_tail(completed.stderr)}"
        )
    return np.frombuffer(completed.stdout[:usable], dtype="<i2").astype(np.int16)
