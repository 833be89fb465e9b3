"""The native-rate pacer: a head start of one excerpt, then never ahead of the wall clock."""

from __future__ import annotations

import pytest
from music_mood_core.pacing import NativeRatePacer

RATE = 1000


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_nothing_waits_before_the_first_audio_or_within_the_head_start() -> None:
    clock = _Clock()
    pacer = NativeRatePacer(RATE, head_start_samples=3 * RATE, clock=clock)
    assert pacer.delay_s(10 * RATE) == 0.0  # connecting is not playing
    pacer.audio_started()
    assert pacer.delay_s(3 * RATE) == 0.0


def test_past_the_head_start_the_reader_waits_for_the_wall_clock() -> None:
    clock = _Clock()
    pacer = NativeRatePacer(RATE, head_start_samples=3 * RATE, clock=clock)
    pacer.audio_started()
    assert pacer.delay_s(5 * RATE) == pytest.approx(2.0)
    clock.now += 1.5
    assert pacer.delay_s(5 * RATE) == pytest.approx(0.5)
    clock.now += 0.5
    assert pacer.delay_s(5 * RATE) == 0.0


def test_a_source_slower_than_real_time_is_never_delayed() -> None:
    clock = _Clock()
    pacer = NativeRatePacer(RATE, head_start_samples=0, clock=clock)
    pacer.audio_started()
    position = 0
    for _ in range(20):
        clock.now += 0.6  # half a second of audio arrives every 0.6 s
        position += RATE // 2
        assert pacer.delay_s(position) == 0.0


def test_the_clock_starts_once() -> None:
    clock = _Clock()
    pacer = NativeRatePacer(RATE, head_start_samples=0, clock=clock)
    pacer.audio_started()
    clock.now += 10.0
    pacer.audio_started()
    assert pacer.delay_s(10 * RATE) == 0.0


def test_a_sample_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="sample_rate"):
        NativeRatePacer(0, head_start_samples=0)
