"""Mood lighting drives Home Assistant lights: captured with HA's service-call capture, or the
demo integration's light entity.

The source of readings is a small in-test implementation of the `MoodSource` protocol (a test
double of the analyser's coordinator, so readings can be chosen); the last test runs a real
analyser on real audio.
"""

from __future__ import annotations

import inspect
import itertools
import math
from pathlib import Path

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.demo.light import DemoLight
from homeassistant.components.light import ColorMode, LightEntityFeature
from homeassistant.const import EVENT_CALL_SERVICE, STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import Event, HomeAssistant, ServiceCall
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (
    async_mock_service,
    setup_test_component_platform,
)

from custom_components.music_mood.const import (
    CONF_COLOUR_PRESET,
    CONF_CORNER_NEGATIVE_CALM,
    CONF_CORNER_NEGATIVE_ENERGETIC,
    CONF_CORNER_POSITIVE_CALM,
    CONF_CORNER_POSITIVE_ENERGETIC,
    CONF_DRIFT_INTERVAL_S,
    CONF_HYSTERESIS_DELTA_E,
    CONF_MAX_BRIGHTNESS_PCT,
    CONF_MIN_BRIGHTNESS_PCT,
    CONF_MOOD_LIGHTS,
    CONF_ON_MUSIC_STOP,
    CONF_TRANSITION_S,
    ON_MUSIC_STOP_HOLD,
)
from custom_components.music_mood.mood_lighting import MoodLightingDriver, MoodLightingSettings
from custom_components.music_mood.music_mood_core.colour import DEFAULT_DRIFT_INTERVAL_S

from .mood_fakes import HOP_S, Clock, FakeMoodSource, Reading

COLOUR = "light.colour_bulb"
WHITE = "light.white_tone_bulb"
DIMMER = "light.dimmer"
SWITCHED = "light.plain_switch"


@pytest.fixture
def lights(hass: HomeAssistant) -> None:
    hass.states.async_set(
        COLOUR,
        STATE_ON,
        {
            "supported_color_modes": [ColorMode.HS, ColorMode.COLOR_TEMP],
            "color_mode": ColorMode.HS,
            "hs_color": (30.0, 50.0),
            "brightness": 77,
            "supported_features": LightEntityFeature.TRANSITION,
        },
    )
    hass.states.async_set(
        WHITE,
        STATE_OFF,
        {
            "supported_color_modes": [ColorMode.COLOR_TEMP],
            "min_color_temp_kelvin": 2200,
            "max_color_temp_kelvin": 6000,
        },
    )
    hass.states.async_set(DIMMER, STATE_OFF, {"supported_color_modes": [ColorMode.BRIGHTNESS]})
    hass.states.async_set(SWITCHED, STATE_ON, {"supported_color_modes": [ColorMode.ONOFF]})


def _settings(**options: object) -> MoodLightingSettings:
    return MoodLightingSettings.from_options(
        {CONF_MOOD_LIGHTS: [COLOUR, WHITE, DIMMER, SWITCHED]} | options
    )


def _by_light(calls: list[ServiceCall]) -> dict[str, list[dict[str, object]]]:
    result: dict[str, list[dict[str, object]]] = {}
    for call in calls:
        data = dict(call.data)
        entity_id = data.pop("entity_id")
        if isinstance(entity_id, list):
            (entity_id,) = entity_id
        result.setdefault(entity_id, []).append(data)
    return result


async def test_each_kind_of_light_gets_what_it_can_show(hass: HomeAssistant, lights: None) -> None:
    turn_on = async_mock_service(hass, "light", "turn_on")
    source, clock = FakeMoodSource(), Clock()
    driver = MoodLightingDriver(hass, source, _settings(), clock=clock)
    driver.async_enable()

    source.push(Reading(valence=1.0, arousal=1.0))  # happy: yellow-orange, full brightness
    await hass.async_block_till_done()
    sent = _by_light(turn_on)
    assert sent[COLOUR] == [{"rgb_color": [255, 170, 0], "brightness": 255, "transition": HOP_S}]
    # White tones: the light's own coolest end for an energetic, positive mood; no transition
    # because it does not support one.
    assert sent[WHITE] == [{"color_temp_kelvin": 6000, "brightness": 255}]
    assert sent[DIMMER] == [{"brightness": 255}]
    assert SWITCHED not in sent

    turn_on.clear()
    clock.next_hop()
    source.push(Reading(valence=-1.0, arousal=-1.0))  # sad: blue, dim, warm white
    await hass.async_block_till_done()
    sent = _by_light(turn_on)
    dim = round(15 * 255 / 100)
    assert sent[COLOUR] == [{"rgb_color": [0, 0, 255], "brightness": dim, "transition": HOP_S}]
    assert sent[WHITE] == [{"color_temp_kelvin": 2200, "brightness": dim}]
    assert sent[DIMMER] == [{"brightness": dim}]
    driver.async_disable()


async def test_at_most_one_command_per_hop_and_only_visible_changes(
    hass: HomeAssistant, lights: None
) -> None:
    turn_on = async_mock_service(hass, "light", "turn_on")
    source, clock = FakeMoodSource(), Clock()
    settings = _settings(**{CONF_MOOD_LIGHTS: [COLOUR], CONF_HYSTERESIS_DELTA_E: 4.0})
    driver = MoodLightingDriver(hass, source, settings, clock=clock)
    driver.async_enable()

    source.push(Reading(0.5, 0.5))
    source.push(Reading(-0.5, 0.5))  # same hop: rate-limited however different
    await hass.async_block_till_done()
    assert len(turn_on) == 1

    clock.next_hop()
    # Next hop, a different colour (255, 189, 46) but only ΔE 2.4 from the one sent: hysteresis.
    source.push(Reading(0.52, 0.5))
    await hass.async_block_till_done()
    assert len(turn_on) == 1

    clock.next_hop()
    source.push(Reading(-0.5, 0.5))  # next hop, visible change
    await hass.async_block_till_done()
    assert len(turn_on) == 2
    assert turn_on[-1].data["rgb_color"] != turn_on[0].data["rgb_color"]
    driver.async_disable()


async def test_a_dimmer_is_not_resent_the_same_brightness_for_a_new_colour(
    hass: HomeAssistant, lights: None
) -> None:
    turn_on = async_mock_service(hass, "light", "turn_on")
    source, clock = FakeMoodSource(), Clock()
    settings = _settings(**{CONF_MOOD_LIGHTS: [DIMMER, COLOUR]})
    driver = MoodLightingDriver(hass, source, settings, clock=clock)
    driver.async_enable()
    source.push(Reading(0.8, 0.2))
    await hass.async_block_till_done()
    clock.next_hop()
    source.push(Reading(-0.8, 0.2))  # a new colour at the same arousal: same brightness
    await hass.async_block_till_done()
    sent = _by_light(turn_on)
    assert len(sent[COLOUR]) == 2
    assert sent[DIMMER] == [{"brightness": sent[COLOUR][0]["brightness"]}]
    driver.async_disable()


async def test_music_stopping_restores_the_lights_as_they_were(
    hass: HomeAssistant, lights: None
) -> None:
    turn_on = async_mock_service(hass, "light", "turn_on")
    turn_off = async_mock_service(hass, "light", "turn_off")
    source, clock = FakeMoodSource(), Clock()
    driver = MoodLightingDriver(hass, source, _settings(), clock=clock)
    driver.async_enable()
    source.push(Reading(0.2, 0.8))
    await hass.async_block_till_done()
    # The mock service does not change states; make the driven lights look driven anyway.
    hass.states.async_set(WHITE, STATE_ON, hass.states.get(WHITE).attributes)
    hass.states.async_set(DIMMER, STATE_ON, hass.states.get(DIMMER).attributes)
    assert driver.driving
    turn_on.clear()

    clock.next_hop()
    source.push(Reading(0.2, 0.8, playing=False))
    await hass.async_block_till_done()
    assert not driver.driving
    # The colour light was on in HS at brightness 77: exactly that comes back.
    assert _by_light(turn_on) == {COLOUR: [{"hs_color": [30.0, 50.0], "brightness": 77}]}
    # The white and the dimmer were off before the music.
    assert sorted(_by_light(turn_off)) == [DIMMER, WHITE]

    # Music again: the lights are captured afresh and driven again.
    turn_on.clear()
    clock.next_hop()
    source.push(Reading(0.2, 0.8))
    await hass.async_block_till_done()
    assert sorted(_by_light(turn_on)) == [COLOUR, DIMMER, WHITE]
    driver.async_disable()


async def test_hold_keeps_the_last_colour_when_music_stops(
    hass: HomeAssistant, lights: None
) -> None:
    turn_on = async_mock_service(hass, "light", "turn_on")
    turn_off = async_mock_service(hass, "light", "turn_off")
    source, clock = FakeMoodSource(), Clock()
    driver = MoodLightingDriver(
        hass, source, _settings(**{CONF_ON_MUSIC_STOP: ON_MUSIC_STOP_HOLD}), clock=clock
    )
    driver.async_enable()
    source.push(Reading(0.2, 0.8))
    await hass.async_block_till_done()
    sent = len(turn_on)
    assert sent == 3
    clock.next_hop()
    source.push(Reading(0.2, 0.8, playing=False))
    await hass.async_block_till_done()
    assert len(turn_on) == sent
    assert turn_off == []
    driver.async_disable()
    await hass.async_block_till_done()
    assert len(turn_on) == sent
    assert turn_off == []


async def test_disabling_stops_driving_and_restores(hass: HomeAssistant, lights: None) -> None:
    turn_on = async_mock_service(hass, "light", "turn_on")
    async_mock_service(hass, "light", "turn_off")
    source, clock = FakeMoodSource(), Clock()
    driver = MoodLightingDriver(
        hass, source, _settings(**{CONF_MOOD_LIGHTS: [COLOUR]}), clock=clock
    )
    driver.async_enable()
    source.push(Reading(0.9, 0.9))
    await hass.async_block_till_done()
    assert len(turn_on) == 1
    driver.async_disable()
    await hass.async_block_till_done()
    assert source.listeners == []
    assert turn_on[-1].data == {"entity_id": COLOUR, "hs_color": [30.0, 50.0], "brightness": 77}
    turn_on.clear()
    clock.next_hop()
    source.push(Reading(-0.9, 0.9))
    await hass.async_block_till_done()
    assert turn_on == []

    driver.async_enable()
    await hass.async_block_till_done()
    assert len(turn_on) == 1
    # Enabling acts on the latest reading at once: angry on the diagonal is pure red.
    assert turn_on[0].data["rgb_color"] == [255, 0, 0]
    driver.async_disable()


async def test_unavailable_light_is_skipped_and_picked_up_when_back(
    hass: HomeAssistant, lights: None
) -> None:
    turn_on = async_mock_service(hass, "light", "turn_on")
    source, clock = FakeMoodSource(), Clock()
    driver = MoodLightingDriver(
        hass, source, _settings(**{CONF_MOOD_LIGHTS: [COLOUR]}), clock=clock
    )
    driver.async_enable()
    source.push(Reading(0.4, -0.4))
    await hass.async_block_till_done()
    assert len(turn_on) == 1
    attributes = hass.states.get(COLOUR).attributes
    hass.states.async_set(COLOUR, STATE_UNAVAILABLE, attributes)
    clock.next_hop()
    source.push(Reading(0.4, -0.4))
    await hass.async_block_till_done()
    assert len(turn_on) == 1

    # Back, and the mood has not changed: it is sent again all the same, as the light lost it.
    hass.states.async_set(COLOUR, STATE_ON, attributes)
    clock.next_hop()
    source.push(Reading(0.4, -0.4))
    await hass.async_block_till_done()
    assert len(turn_on) == 2
    assert turn_on[1].data == turn_on[0].data
    driver.async_disable()


async def test_four_corner_colours_and_fixed_transition_from_options(
    hass: HomeAssistant, lights: None
) -> None:
    turn_on = async_mock_service(hass, "light", "turn_on")
    source, clock = FakeMoodSource(), Clock()
    options = {
        CONF_MOOD_LIGHTS: [COLOUR],
        CONF_COLOUR_PRESET: "four_corner",
        CONF_CORNER_POSITIVE_ENERGETIC: [250, 200, 10],
        CONF_CORNER_NEGATIVE_ENERGETIC: [200, 20, 60],
        CONF_CORNER_NEGATIVE_CALM: [30, 40, 180],
        CONF_CORNER_POSITIVE_CALM: [20, 160, 90],
        CONF_MIN_BRIGHTNESS_PCT: 20,
        CONF_MAX_BRIGHTNESS_PCT: 60,
        CONF_TRANSITION_S: 2.0,
    }
    driver = MoodLightingDriver(
        hass, source, MoodLightingSettings.from_options(options), clock=clock
    )
    driver.async_enable()
    source.push(Reading(-1.0, 1.0))
    await hass.async_block_till_done()
    assert turn_on[0].data == {
        "entity_id": COLOUR,
        "rgb_color": [200, 20, 60],
        "brightness": round(60 * 255 / 100),
        "transition": 2.0,
    }
    driver.async_disable()


def _drifting_happy_mood(hops: int) -> list[Reading]:
    """A smoothed mood wandering inside the happy quadrant: visible steps every few hops."""
    return [
        Reading(0.45 + 0.25 * math.sin(index / 15.0), 0.45 + 0.25 * math.cos(index / 23.0))
        for index in range(hops)
    ]


async def test_a_drift_is_sent_every_interval_and_a_new_mood_at_once(
    hass: HomeAssistant, lights: None
) -> None:
    turn_on = async_mock_service(hass, "light", "turn_on")
    source, clock = FakeMoodSource(), Clock()
    settings = _settings(**{CONF_MOOD_LIGHTS: [COLOUR], CONF_DRIFT_INTERVAL_S: 4.0})
    driver = MoodLightingDriver(hass, source, settings, clock=clock)
    driver.async_enable()
    sent_at: list[float] = []
    for reading in _drifting_happy_mood(120):  # one minute
        count = len(turn_on)
        source.push(reading)
        await hass.async_block_till_done()
        if len(turn_on) > count:
            sent_at.append(clock.now)
        clock.next_hop()
    assert all(later - earlier >= 4.0 for earlier, later in itertools.pairwise(sent_at))
    assert len(sent_at) >= 10  # the drift shows, about every 4 s
    # A drift glides over the interval, so the colour moves on continuously between commands.
    assert turn_on[-1].data["transition"] == 4.0

    # A change of quadrant goes out at the next reading, with a short transition.
    count = len(turn_on)
    source.push(Reading(-0.6, 0.5))
    await hass.async_block_till_done()
    assert len(turn_on) == count + 1
    assert turn_on[-1].data["rgb_color"] != turn_on[-2].data["rgb_color"]
    assert turn_on[-1].data["transition"] == HOP_S
    driver.async_disable()


async def test_a_quadrant_change_with_a_small_colour_step_is_sent_at_once(
    hass: HomeAssistant, lights: None
) -> None:
    turn_on = async_mock_service(hass, "light", "turn_on")
    source, clock = FakeMoodSource(), Clock()
    driver = MoodLightingDriver(
        hass, source, _settings(**{CONF_MOOD_LIGHTS: [COLOUR]}), clock=clock
    )
    driver.async_enable()
    source.push(Reading(0.6, 0.02, mood="happy"))
    await hass.async_block_till_done()
    clock.next_hop()
    # Slightly below the valence axis: a visible but small step. As a drift it has to wait ...
    source.push(Reading(0.6, -0.08, mood="happy"))
    await hass.async_block_till_done()
    assert len(turn_on) == 1
    clock.next_hop()
    # ... but once the (dead-banded) mood says calm, it is a new mood and goes out now.
    source.push(Reading(0.6, -0.12, mood="calm"))
    await hass.async_block_till_done()
    assert len(turn_on) == 2
    driver.async_disable()


async def _demo_kitchen_light(hass: HomeAssistant) -> str:
    """The demo integration's kitchen light (an HS colour light), on the light platform.

    Only the demo's light entity: the demo integration itself needs conversation, whose
    requirements Home Assistant 2026.x does not install with the core."""
    parameters = inspect.signature(DemoLight).parameters
    # 2025.4's DemoLight starts unavailable unless told otherwise; 2026.x's has no such argument.
    availability = {"available": True} if "available" in parameters else {}
    light = DemoLight(
        unique_id="light_3",
        device_name="Kitchen Lights",
        state=True,
        hs_color=(345, 75),
        **availability,
    )
    light.entity_id = "light.kitchen_lights"
    setup_test_component_platform(hass, "light", [light])
    assert await async_setup_component(hass, "light", {"light": {"platform": "test"}})
    await hass.async_block_till_done()
    assert hass.states.get(light.entity_id).state == STATE_ON
    return light.entity_id


async def test_demo_light_gets_few_commands_for_a_drift_and_shows_a_new_mood_at_once(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    kitchen = await _demo_kitchen_light(hass)
    commands: list[Event] = []

    def _record(event: Event) -> None:
        if event.data.get("domain") == "light":
            commands.append(event)

    hass.bus.async_listen(EVENT_CALL_SERVICE, _record)
    source = FakeMoodSource()
    # The driver's own clock (time.monotonic), moved by the freezer.
    driver = MoodLightingDriver(
        hass, source, MoodLightingSettings.from_options({CONF_MOOD_LIGHTS: [kitchen]})
    )
    driver.async_enable()
    hops = 120  # one minute of readings
    for reading in _drifting_happy_mood(hops):
        source.push(reading)
        await hass.async_block_till_done()
        freezer.tick(HOP_S)
    drift_commands = len(commands)
    # The first command, then at most one per drift interval.
    assert 2 <= drift_commands <= 1 + hops * HOP_S / DEFAULT_DRIFT_INTERVAL_S
    happy_hs = hass.states.get(kitchen).attributes["hs_color"]

    source.push(Reading(-0.7, -0.7))  # sad, on the diagonal: the wheel's blue, dim
    await hass.async_block_till_done()
    assert len(commands) == drift_commands + 1
    state = hass.states.get(kitchen)
    assert state.state == STATE_ON
    assert state.attributes["hs_color"] != happy_hs
    assert state.attributes["hs_color"][0] == pytest.approx(240.0, abs=1.0)  # the sad corner's hue
    assert state.attributes["brightness"] < 100

    driver.async_disable()
    await hass.async_block_till_done()
    # Given back as it was before the music: on, in its own colour.
    restored = hass.states.get(kitchen)
    assert restored.state == STATE_ON
    assert tuple(restored.attributes["hs_color"]) == pytest.approx((345, 75))


async def test_real_pipeline_on_real_audio_colours_a_light(
    hass: HomeAssistant, media_dir: Path, no_ffmpeg_left: None
) -> None:
    from .entries import analyser_entry
    from .processes import wait_for

    hass.states.async_set(
        COLOUR, STATE_OFF, {"supported_color_modes": [ColorMode.RGB], "supported_features": 0}
    )
    turn_on = async_mock_service(hass, "light", "turn_on")
    entry = analyser_entry(str(media_dir / "short.wav"), **{CONF_MOOD_LIGHTS: [COLOUR]})
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get("switch.living_room_mood_lighting").state == STATE_ON

    await wait_for(lambda: len(turn_on) > 0, what="a mood colour sent to the light")
    reading = entry.runtime_data.coordinator.data
    assert reading is not None
    assert reading.playing
    call = turn_on[0].data
    assert call["entity_id"] == COLOUR
    assert all(0 <= channel <= 255 for channel in call["rgb_color"])
    assert round(15 * 255 / 100) <= call["brightness"] <= 255
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
