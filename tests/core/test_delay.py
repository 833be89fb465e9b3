"""The delay line and the delay plan of each kind of source (a pure clock: times are given)."""

from __future__ import annotations

import math

import pytest
from music_mood_core.delay import (
    MAX_DELAY_S,
    MIN_DELAY_S,
    DelayError,
    DelayLine,
    plan_delay,
    validate_delay_s,
)

HOP_S = 0.5


def test_without_delay_every_item_is_due_at_once() -> None:
    line: DelayLine[int] = DelayLine(0.0, HOP_S)
    assert [line.push(index, now=index * HOP_S) for index in range(3)] == [[0], [1], [2]]
    assert len(line) == 0
    assert line.next_due_in(10.0) is None


def test_a_positive_delay_releases_each_item_that_many_seconds_later_in_order() -> None:
    line: DelayLine[int] = DelayLine(1.5, HOP_S)
    released: dict[int, float] = {}
    now = 0.0
    # Items every hop for 5 s; the clock advances in 0.1 s steps like timer callbacks would.
    for step in range(80):
        now = step * 0.1
        due = line.pop_due(now)
        if step % 5 == 0 and now < 5.0:
            due += line.push(step // 5, now)
        for item in due:
            released[item] = now
    assert list(released) == list(range(10))
    for item, at in released.items():
        assert math.isclose(at - item * HOP_S, 1.5, abs_tol=1e-9)


def test_next_due_in_says_when_to_look_again() -> None:
    line: DelayLine[str] = DelayLine(2.0, HOP_S)
    assert line.push("a", now=10.0) == []
    assert line.next_due_in(10.5) == pytest.approx(1.5)
    assert line.pop_due(11.9) == []
    assert line.pop_due(12.0) == ["a"]
    assert line.next_due_in(12.0) is None


def test_a_burst_releases_the_oldest_early_instead_of_growing() -> None:
    """A source catching up delivers many readings at once: the queue stays bounded, none lost."""
    line: DelayLine[int] = DelayLine(MAX_DELAY_S, HOP_S)
    released = [item for index in range(100) for item in line.push(index, now=0.0)]
    assert len(line) == line.max_items == math.ceil(MAX_DELAY_S / HOP_S) + 4
    assert released == list(range(100 - line.max_items))
    assert line.released_early == 100 - line.max_items
    assert line.pop_due(MAX_DELAY_S) == list(range(100 - line.max_items, 100))


def test_clear_returns_what_was_held() -> None:
    line: DelayLine[int] = DelayLine(1.0, HOP_S)
    line.push(1, 0.0)
    line.push(2, 0.1)
    assert line.clear() == [1, 2]
    assert len(line) == 0


@pytest.mark.parametrize("value", [MIN_DELAY_S, -0.5, 0, 0.25, MAX_DELAY_S])
def test_delays_in_range_are_accepted(value: float) -> None:
    assert validate_delay_s(value) == float(value)


@pytest.mark.parametrize("value", [-2.01, 5.01, 60, float("nan"), float("inf"), True, "1", None])
def test_delays_out_of_range_or_not_numbers_are_refused(value: object) -> None:
    with pytest.raises(DelayError, match="delay must be"):
        validate_delay_s(value)


def test_a_line_refuses_a_hold_it_cannot_bound() -> None:
    with pytest.raises(DelayError):
        DelayLine(-1.0, HOP_S)
    with pytest.raises(ValueError, match="hop_s"):
        DelayLine(1.0, 0.0)


def test_positive_delays_hold_on_every_source() -> None:
    for paced in (True, False):
        plan = plan_delay(1.5, paced=paced)
        assert (plan.hold_s, plan.read_ahead_s, plan.unreachable_s) == (1.5, 0.0, 0.0)


def test_a_negative_delay_reads_a_paced_source_ahead() -> None:
    plan = plan_delay(-1.5, paced=True)
    assert (plan.hold_s, plan.read_ahead_s, plan.unreachable_s) == (0.0, 1.5, 0.0)
    assert plan.read_ahead_samples(22050) == 33075


def test_a_negative_delay_on_a_live_source_is_clamped_and_reported() -> None:
    plan = plan_delay(-2.0, paced=False)
    assert (plan.hold_s, plan.read_ahead_s, plan.unreachable_s) == (0.0, 0.0, 2.0)
    assert plan.read_ahead_samples(22050) == 0


def test_an_item_with_a_play_time_is_due_the_hold_after_it_plays() -> None:
    """A source that knows when its audio plays (Sendspin) delays from the play time, not now."""
    line: DelayLine[str] = DelayLine(0.5, HOP_S)
    assert line.push("later", now=10.0, audio_at=12.0) == []
    assert line.next_due_in(10.0) == pytest.approx(2.5)
    assert line.pop_due(12.49) == []
    assert line.pop_due(12.5) == ["later"]


def test_items_never_overtake_each_other() -> None:
    line: DelayLine[str] = DelayLine(0.0, HOP_S)
    assert line.push("first", now=0.0, audio_at=3.0) == []
    # A play time before the previous reading's (a clock correction): the order is kept.
    assert line.push("second", now=0.1, audio_at=1.0) == []
    assert line.pop_due(3.0) == ["first", "second"]


def test_room_is_kept_for_items_that_play_later_than_now() -> None:
    """Sendspin audio arrives seconds before it plays: those readings wait without eviction."""
    line: DelayLine[int] = DelayLine(1.0, HOP_S, lead_s=3.0)
    assert line.max_items == math.ceil(4.0 / HOP_S) + 4
    released = [item for index in range(8) for item in line.push(index, 0.0, audio_at=3.0)]
    assert released == []
    assert line.released_early == 0
    with pytest.raises(ValueError, match="lead_s"):
        DelayLine(1.0, HOP_S, lead_s=-1.0)


def test_a_negative_delay_advances_readings_on_a_source_that_knows_play_times() -> None:
    """Sendspin audio arrives before it plays: the negative delay is applied, on live or paced."""
    for paced in (True, False):
        plan = plan_delay(-1.5, paced=paced, knows_play_time=True)
        assert (plan.hold_s, plan.read_ahead_s, plan.advance_s, plan.unreachable_s) == (
            0.0,
            0.0,
            1.5,
            0.0,
        )
    # A positive delay still holds, play times or not.
    plan = plan_delay(2.0, paced=False, knows_play_time=True)
    assert (plan.hold_s, plan.advance_s, plan.unreachable_s) == (2.0, 0.0, 0.0)
    line: DelayLine[int] = DelayLine.for_plan(
        plan_delay(-0.5, paced=False, knows_play_time=True), HOP_S
    )
    assert (line.hold_s, line.advance_s) == (0.0, 0.5)


def test_an_advanced_item_is_due_before_its_play_time_and_never_before_now() -> None:
    line: DelayLine[str] = DelayLine(0.0, HOP_S, lead_s=3.0, advance_s=0.5)
    assert line.push("ahead", now=10.0, audio_at=11.0) == []
    assert line.next_due_in(10.0) == pytest.approx(0.5)
    assert line.pop_due(10.49) == []
    assert line.pop_due(10.5) == ["ahead"]
    assert line.lateness.late_readings == 0
    # Its play time is nearer than the advance: released at once, the shortfall counted.
    assert line.push("near", now=20.0, audio_at=20.2) == ["near"]
    assert line.lateness.late_readings == 1
    assert line.lateness.last_late_s == pytest.approx(0.3)
    # Without a play time nothing is advanced and nothing counted: due now (hold 0).
    assert line.push("unknown", now=30.0) == ["unknown"]
    assert line.lateness.late_readings == 1


def test_advanced_items_keep_their_order() -> None:
    line: DelayLine[str] = DelayLine(0.0, HOP_S, lead_s=3.0, advance_s=1.0)
    assert line.push("first", now=0.0, audio_at=3.0) == []
    # A later reading whose play time lies before the first's (a clock correction): not first.
    assert line.push("second", now=0.1, audio_at=1.5) == []
    assert line.pop_due(0.6) == []
    assert line.pop_due(2.0) == ["first", "second"]
    # One too late for its advance waits for the one before it as well.
    assert line.push("third", now=2.1, audio_at=4.0) == []
    assert line.push("fourth", now=2.2, audio_at=2.5) == []
    assert line.lateness.late_readings == 1
    assert line.pop_due(3.0) == ["third", "fourth"]


def test_the_queue_stays_bounded_when_advanced_readings_pile_up() -> None:
    """A burst of readings whose play time lies far ahead: the oldest are released early."""
    line: DelayLine[int] = DelayLine(0.0, HOP_S, lead_s=2.0, advance_s=0.5)
    released = [item for index in range(40) for item in line.push(index, 0.0, audio_at=9.0)]
    assert len(line) == line.max_items == math.ceil(2.0 / HOP_S) + 4
    assert released == list(range(40 - line.max_items))
    assert line.released_early == 40 - line.max_items
    assert line.pop_due(8.5) == list(range(40 - line.max_items, 40))


def test_an_advance_beyond_the_delay_range_is_refused() -> None:
    with pytest.raises(DelayError, match="advance_s"):
        DelayLine(0.0, HOP_S, advance_s=-MIN_DELAY_S + 0.1)
    with pytest.raises(DelayError, match="advance_s"):
        DelayLine(0.0, HOP_S, advance_s=-0.1)
