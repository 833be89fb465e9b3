"""ffmpeg argument lists, source checks, credential redaction, whole-file decoding (real ffmpeg)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from music_mood_core.audio import (
    AudioDecodeError,
    UnsafeSourceError,
    decode_file,
    ffmpeg_pcm_command,
    validate_source,
)

from tests.data_paths import EMOMUSIC_DIR, LIBROSA_CC_DIR, needs_data

CLIP = EMOMUSIC_DIR / "clips_45s" / "2.mp3"
CC_CLIP = LIBROSA_CC_DIR / "Kevin_MacLeod_-_Vibe_Ace.ogg"


def test_command_decodes_to_mono_s16le_on_stdout() -> None:
    command = ffmpeg_pcm_command("song.mp3", 22050)
    assert command == [
        "ffmpeg",
        "-nostdin",
        "-hide_banner",
        "-loglevel",
        "error",
        "-i",
        "song.mp3",
        "-vn",
        "-ac",
        "1",
        "-ar",
        "22050",
        "-acodec",
        "pcm_s16le",
        "-f",
        "s16le",
        "pipe:1",
    ]


def test_realtime_loop_and_input_options_go_before_the_input() -> None:
    command = ffmpeg_pcm_command(
        "rtsp://cam/stream",
        44100,
        ffmpeg_binary="/opt/ffmpeg",
        realtime=True,
        loop=True,
        input_options=("-rtsp_transport", "tcp"),
    )
    assert command[0] == "/opt/ffmpeg"
    source_at = command.index("-i")
    assert command[source_at + 1] == "rtsp://cam/stream"
    before = command[:source_at]
    assert "-re" in before
    assert before[before.index("-stream_loop") + 1] == "-1"
    assert before[-2:] == ["-rtsp_transport", "tcp"]
    assert command[command.index("-ar") + 1] == "44100"
    assert "-re" not in ffmpeg_pcm_command("a.mp3", 22050)
    assert "-stream_loop" not in ffmpeg_pcm_command("a.mp3", 22050)


@pytest.mark.parametrize(
    "source",
    ["", "   ", "-i", "-f lavfi", "  -y", "song\n.mp3", "a\rb", "nul\x00byte"],
)
def test_unsafe_sources_are_rejected(source: str) -> None:
    with pytest.raises(UnsafeSourceError):
        validate_source(source)
    with pytest.raises(UnsafeSourceError):
        ffmpeg_pcm_command(source, 22050)
    assert issubclass(UnsafeSourceError, ValueError)


@pytest.mark.parametrize(
    "source", ["./-odd name.mp3", "/music/a-b.flac", "http://h/x?a=-1", "pipe:0"]
)
def test_ordinary_sources_are_accepted(source: str) -> None:
    validate_source(source)
    assert source in ffmpeg_pcm_command(source, 22050)


def test_bad_arguments_are_rejected() -> None:
    with pytest.raises(ValueError, match="sample_rate"):
        ffmpeg_pcm_command("a.mp3", 0)
    with pytest.raises(TypeError):
        ffmpeg_pcm_command("a.mp3", 22050, input_options="-re")
    with pytest.raises(UnsafeSourceError):
        ffmpeg_pcm_command("a.mp3", 22050, input_options=("-headers", "X: 1\r\nY: 2"))


def test_leading_dash_advice_is_an_absolute_path() -> None:
    with pytest.raises(UnsafeSourceError) as raised:
        validate_source("-track.ogg")
    message = str(raised.value)
    assert "absolute path" in message
    assert "'./'" not in message


@needs_data(CLIP, CC_CLIP)
def test_decode_real_clips_at_both_rates() -> None:
    by_rate = {rate: decode_file(CLIP, rate) for rate in (22050, 44100)}
    for rate, samples in by_rate.items():
        assert samples.dtype == np.int16
        assert samples.ndim == 1
        assert abs(samples.size / rate - 45.0) < 0.1  # 45 s MP3 clip (encoder delay trimmed)
        assert np.abs(samples.astype(np.int32)).max() > 1000
    assert abs(by_rate[44100].size - 2 * by_rate[22050].size) <= 2
    cc = decode_file(str(CC_CLIP), 22050)
    assert abs(cc.size / 22050 - 61.46) < 0.05


@needs_data(CC_CLIP)
def test_decode_matches_the_streaming_command_byte_for_byte() -> None:
    """decode_file and a live reader of ffmpeg_pcm_command see the very same samples."""
    command = ffmpeg_pcm_command(str(CC_CLIP), 22050)
    completed = subprocess.run(command, capture_output=True, check=True, timeout=120)
    np.testing.assert_array_equal(
        decode_file(CC_CLIP, 22050), np.frombuffer(completed.stdout, dtype="<i2")
    )


def test_missing_file_is_a_decode_error(tmp_path: Path) -> None:
    with pytest.raises(AudioDecodeError, match="could not decode") as caught:
        decode_file(tmp_path / "missing.mp3", 22050)
    assert "No such file" in str(caught.value)


def test_non_audio_is_a_decode_error(tmp_path: Path) -> None:
    notes = tmp_path / "attribution.txt"
    notes.write_text("Vibe Ace by Kevin MacLeod, CC-BY 3.0\n", encoding="utf-8")
    with pytest.raises(AudioDecodeError):
        decode_file(notes, 22050)


def test_audio_free_media_is_a_decode_error(tmp_path: Path) -> None:
    still = tmp_path / "still.png"
    subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            "color=c=red:s=8x8",
            "-frames:v",
            "1",
            str(still),
        ],
        check=True,
        timeout=60,
    )
    with pytest.raises(AudioDecodeError):
        decode_file(still, 22050)


def test_decode_errors_redact_credentials() -> None:
    # Port 9 on localhost refuses the connection at once; ffmpeg names the URL in its error.
    with pytest.raises(AudioDecodeError) as caught:
        decode_file("http://listener:hunter2@127.0.0.1:9/stream.mp3?token=abc", 22050, timeout_s=30)
    message = str(caught.value)
    assert "hunter2" not in message
    assert "abc" not in message
    assert "***:***@127.0.0.1:9" in message


def test_missing_ffmpeg_is_a_decode_error(tmp_path: Path) -> None:
    with pytest.raises(AudioDecodeError, match="not found"):
        decode_file(CLIP, 22050, ffmpeg_binary=str(tmp_path / "no-ffmpeg"))


def test_unsafe_path_is_rejected_before_running_ffmpeg() -> None:
    with pytest.raises(UnsafeSourceError):
        decode_file("-version", 22050)
