"""Outages and changes on the clock: stalls, refused restarts and model files, by the freezer.

The stream loop's own timeouts and back-off run on the event loop's clock, which the freezer moves;
nothing here waits in real time.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.music_mood.const import (
    DOMAIN,
    MODEL_CHECK_INTERVAL_S,
    RESTART_BACKOFF_MIN_S,
    STALL_TIMEOUT_S,
)
from custom_components.music_mood.model_holder import model_issue_id

from ..assets import FIXTURE_MODELS, TEST_MODEL
from .clock import advance, until
from .pcm import GeneratedPcmSource, chord

VALENCE = "sensor.living_room_valence"
STATUS = "sensor.living_room_analyser_status"
MUSIC = chord(3.5, (220.0, 277.2, 329.6))


async def _play_while_running(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    generated_pcm: GeneratedPcmSource,
    seconds: float,
) -> None:
    """Music in half-second hops with the clock moving along, as long as the analyser runs."""
    hop = MUSIC[: len(MUSIC) // 7]
    for _ in range(round(seconds / 0.5)):
        if hass.states.get(STATUS).state != "running":
            return
        await generated_pcm.play(hop)
        await advance(hass, freezer, 0.5)


async def test_a_stalled_stream_is_restarted_after_the_backoff(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    init_integration: MockConfigEntry,
    generated_pcm: GeneratedPcmSource,
) -> None:
    coordinator = init_integration.runtime_data.coordinator
    await generated_pcm.play(MUSIC)
    assert hass.states.get(VALENCE).state != STATE_UNAVAILABLE

    # Audio stops without the stream ending: just short of the stall timeout nothing happens.
    await advance(hass, freezer, STALL_TIMEOUT_S - 1)
    assert hass.states.get(STATUS).state == "running"
    await advance(hass, freezer, 1)
    await until(hass, lambda: hass.states.get(STATUS).state == "reconnecting", "the stall")
    assert hass.states.get(VALENCE).state == STATE_UNAVAILABLE
    assert coordinator.stats.restarts == 1
    assert generated_pcm.streams[0].closed
    assert len(generated_pcm.streams) == 1, "no new stream before the back-off has passed"

    await advance(hass, freezer, RESTART_BACKOFF_MIN_S)
    await generated_pcm.until_open(2)
    await generated_pcm.play(MUSIC)
    assert hass.states.get(STATUS).state == "running"
    assert hass.states.get(VALENCE).state != STATE_UNAVAILABLE
    assert coordinator.stats.restarts == 1


async def test_refused_restarts_back_off_exponentially_then_recover(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    init_integration: MockConfigEntry,
    generated_pcm: GeneratedPcmSource,
) -> None:
    coordinator = init_integration.runtime_data.coordinator
    await generated_pcm.play(MUSIC)
    generated_pcm.refuse_to_start = "Connection refused"
    generated_pcm.stream.end()
    await until(hass, lambda: hass.states.get(STATUS).state == "reconnecting", "the outage")
    assert "stream ended" in hass.states.get(STATUS).attributes["detail"]

    # 1 s, then 2 s, then 4 s: each refused start doubles the wait before the next one.
    for delay_s, streams in ((1, 2), (2, 3), (4, 4)):
        await advance(hass, freezer, delay_s - 0.5)
        assert len(generated_pcm.streams) == streams - 1
        await advance(hass, freezer, 0.5)
        await until(hass, lambda: len(generated_pcm.streams) == streams, "the next attempt")  # noqa: B023
        await until(
            hass,
            lambda: hass.states.get(STATUS).attributes["detail"] == "Connection refused",
            "the refusal",
        )
    assert coordinator.stats.restarts == 4

    generated_pcm.refuse_to_start = None
    await advance(hass, freezer, 8)
    await generated_pcm.until_open(5)
    await generated_pcm.play(MUSIC)
    assert hass.states.get(STATUS).state == "running"
    assert hass.states.get(STATUS).attributes["detail"] is None


async def test_a_broken_model_file_raises_a_repair_issue_until_it_is_fixed(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_dir: Path,
    init_integration: MockConfigEntry,
    generated_pcm: GeneratedPcmSource,
    issue_registry: ir.IssueRegistry,
) -> None:
    model_file = config_dir / "music_mood" / TEST_MODEL
    issue_id = model_issue_id(init_integration.entry_id)
    await generated_pcm.play(MUSIC)

    # The file is looked at every MODEL_CHECK_INTERVAL_S while the music goes on.
    shutil.copy(FIXTURE_MODELS / "broken_not_onnx.onnx", model_file)
    await _play_while_running(hass, freezer, generated_pcm, MODEL_CHECK_INTERVAL_S + 1)
    await until(hass, lambda: hass.states.get(STATUS).state == "model_error", "the model error")
    assert hass.states.get(VALENCE).state == STATE_UNAVAILABLE
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is not None
    assert generated_pcm.streams[0].closed

    # While the model is unusable the loop retries with back-off, loading the file each time.
    shutil.copy(FIXTURE_MODELS / TEST_MODEL, model_file)
    await advance(hass, freezer, RESTART_BACKOFF_MIN_S)
    await generated_pcm.until_open(2)
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None
    await generated_pcm.play(MUSIC)
    assert hass.states.get(STATUS).state == "running"
    assert hass.states.get(VALENCE).state != STATE_UNAVAILABLE
