"""The one back-off: doubling delays, capped, reset by a success, rejecting nonsense bounds."""

from __future__ import annotations

import math

import pytest
from music_mood_core.backoff import Backoff


def test_delays_double_up_to_the_maximum_and_stay_there() -> None:
    backoff = Backoff(initial_s=1.0, maximum_s=5.0)
    assert [backoff.next_delay() for _ in range(6)] == [1.0, 2.0, 4.0, 5.0, 5.0, 5.0]


def test_reset_starts_again_from_the_initial_delay() -> None:
    backoff = Backoff(initial_s=0.25, maximum_s=60.0)
    assert [backoff.next_delay() for _ in range(3)] == [0.25, 0.5, 1.0]
    backoff.reset()
    assert [backoff.next_delay() for _ in range(2)] == [0.25, 0.5]


def test_a_cap_equal_to_the_first_delay_gives_a_constant_delay() -> None:
    backoff = Backoff(initial_s=2.0, maximum_s=2.0)
    assert [backoff.next_delay() for _ in range(3)] == [2.0, 2.0, 2.0]


def test_a_long_failure_streak_never_exceeds_the_cap_or_overflows() -> None:
    backoff = Backoff(initial_s=1.0, maximum_s=60.0)
    delays = [backoff.next_delay() for _ in range(2000)]
    assert max(delays) == 60.0
    assert all(math.isfinite(delay) for delay in delays)


def test_two_instances_do_not_share_state() -> None:
    first = Backoff(initial_s=1.0, maximum_s=8.0)
    second = Backoff(initial_s=1.0, maximum_s=8.0)
    first.next_delay()
    first.next_delay()
    assert second.next_delay() == 1.0
    assert first.next_delay() == 4.0


@pytest.mark.parametrize(
    ("initial_s", "maximum_s", "message"),
    [
        (0.0, 1.0, "initial_s must be positive"),
        (-1.0, 1.0, "initial_s must be positive"),
        (math.nan, 1.0, "initial_s must be positive"),
        (2.0, 1.0, "maximum_s must be at least initial_s"),
        (1.0, math.nan, "maximum_s must be at least initial_s"),
    ],
)
def test_nonsense_bounds_are_rejected(initial_s: float, maximum_s: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Backoff(initial_s=initial_s, maximum_s=maximum_s)


def test_the_bounds_are_readable() -> None:
    backoff = Backoff(initial_s=1.5, maximum_s=30.0)
    assert (backoff.initial_s, backoff.maximum_s) == (1.5, 30.0)
