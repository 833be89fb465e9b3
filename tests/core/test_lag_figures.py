"""scripts/lag_figures.py: the pure parts of the per-route lag measurement.

Where the music starts in what a receiver got, which sent sample an analyser sample is, when a paced
sender sends it, and which readings count: a mistake in any of them shifts every figure the README
gives for the delay option.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.file_modules import load_file_module

REPO_ROOT = Path(__file__).resolve().parents[2]


lag_figures = load_file_module("scripts/lag_figures.py", "lag_figures")


@pytest.mark.parametrize(("sample_rate", "channels"), [(16000, 1), (48000, 2)])
def test_generated_music_starts_after_the_silence(sample_rate: int, channels: int) -> None:
    pcm = lag_figures.generated_music(2.0, sample_rate, channels, silence_s=0.5)
    frame_bytes = 2 * channels
    assert len(pcm) == (2.5 * sample_rate) * frame_bytes
    frames = np.frombuffer(pcm, dtype="<i2").reshape(-1, channels)
    assert not frames[: sample_rate // 2].any()
    assert np.abs(frames[sample_rate // 2 :]).mean() > 1000  # music, not a click
    assert lag_figures.first_nonzero_frame(pcm, frame_bytes) == sample_rate // 2
    # What a receiver got from the middle of the silence on: the onset moves with the cut.
    cut = sample_rate // 4 * frame_bytes
    assert lag_figures.first_nonzero_frame(pcm[cut:], frame_bytes) == sample_rate // 4


def test_first_nonzero_frame_counts_frames_not_samples() -> None:
    silent = bytes(4 * 10)
    right_only = np.array([[0, 0], [0, 0], [0, 7]], dtype="<i2").tobytes()
    assert lag_figures.first_nonzero_frame(silent, 4) is None
    assert lag_figures.first_nonzero_frame(right_only, 4) == 2
    # A trailing partial frame is not a frame.
    assert lag_figures.first_nonzero_frame(silent + b"\x01\x00", 4) is None


def test_paced_send_time_is_the_start_of_the_chunk_holding_the_frame() -> None:
    send = lag_figures.paced_send_time
    assert send(100.0, 0, 320, 16000) == 100.0
    assert send(100.0, 319, 320, 16000) == 100.0
    assert send(100.0, 320, 320, 16000) == pytest.approx(100.02)
    assert send(100.0, 16000, 320, 16000) == pytest.approx(101.0)


def test_resampled_frame_maps_through_both_onsets() -> None:
    # The analyser's music starts at its sample 1000 (22.05 kHz), the sender's at frame 48000.
    assert lag_figures.resampled_frame(1000, 22050, 1000.0, 48000, 16000) == 48000
    assert lag_figures.resampled_frame(1000 + 22050, 22050, 1000.0, 48000, 16000) == 64000


def test_music_lags_leave_out_excerpts_with_silence_and_unknown_times() -> None:
    released = [(100, 9.0), (200, 10.5), (300, 11.25), (400, 12.0), (500, 13.0)]
    heard = {200: 10.0, 400: 12.5, 500: 12.5}
    lags = lag_figures.music_lags(released, (150, 400), heard.get)
    # 100 holds silence before the music, 300 has no known time, 500 ends after the music.
    assert lags == [0.5, -0.5]


def test_lag_figures_and_table() -> None:
    figures = lag_figures.LagFigures.of([0.2, 0.1, 0.4])
    assert (figures.median_ms, figures.min_ms, figures.max_ms, figures.count) == pytest.approx(
        (200.0, 100.0, 400.0, 3)
    )
    table = lag_figures.lag_table(
        "udp", "time sent", [lag_figures.LagRow(-1.0, figures, "clamped")]
    )
    assert table.splitlines()[0] == "udp: lag = reading released - time sent"
    assert table.splitlines()[2].split() == ["-1.0s", "200ms", "100ms", "400ms", "3", "clamped"]
    with pytest.raises(ValueError, match="no lags"):
        lag_figures.LagFigures.of([])
