"""The serial strip's light entity in real Home Assistant, byte-checked at the far end of a pty."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from homeassistant.components.light import ATTR_BRIGHTNESS, ATTR_RGB_COLOR, ColorMode
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_ENTITY_ID, STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from tests.serial_pty import device_directory, running

from .entries import STRIP_KEEPALIVE_S as KEEPALIVE_S
from .entries import strip_entry
from .serial_strip import ConnectedSocatPair, adalight_frames

LIGHT = "light.desk_strip_led_strip"


@pytest.fixture
def device_dir() -> Iterator[Path]:
    yield from device_directory()


@pytest.fixture
def socat_pair(device_dir: Path) -> Iterator[ConnectedSocatPair]:
    yield from running(ConnectedSocatPair(device_dir))


async def _turn_on(hass: HomeAssistant, **data: object) -> None:
    await hass.services.async_call(
        "light", "turn_on", {ATTR_ENTITY_ID: LIGHT, **data}, blocking=True
    )


async def test_light_sends_exact_frames_and_survives_unplugging(
    hass: HomeAssistant, socat_pair: ConnectedSocatPair
) -> None:
    entry = strip_entry(str(socat_pair.strip_path))
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED

    state = hass.states.get(LIGHT)
    assert state is not None
    assert state.state == STATE_OFF
    assert state.attributes["supported_color_modes"] == [ColorMode.RGB]
    registry_entry = er.async_get(hass).async_get(LIGHT)
    assert registry_entry is not None
    assert registry_entry.unique_id == f"{entry.entry_id}_light"
    assert registry_entry.translation_key == "serial_strip"

    await _turn_on(hass, **{ATTR_RGB_COLOR: (255, 128, 0), ATTR_BRIGHTNESS: 128})
    # 3 LEDs: count-1 = 2, checksum 0x00 ^ 0x02 ^ 0x55 = 0x57; colour scaled by 128/255.
    orange_half = b"Ada\x00\x02\x57" + bytes([128, 64, 0]) * 3
    assert adalight_frames(socat_pair.read_all())[-1] == orange_half
    state = hass.states.get(LIGHT)
    assert state.state == STATE_ON
    assert state.attributes[ATTR_RGB_COLOR] == (255, 128, 0)
    assert state.attributes[ATTR_BRIGHTNESS] == 128

    await _turn_on(hass, **{ATTR_BRIGHTNESS: 255})
    assert (
        adalight_frames(socat_pair.read_all())[-1] == b"Ada\x00\x02\x57" + bytes([255, 128, 0]) * 3
    )

    await hass.services.async_call("light", "turn_off", {ATTR_ENTITY_ID: LIGHT}, blocking=True)
    black = b"Ada\x00\x02\x57" + bytes(9)
    assert adalight_frames(socat_pair.read_all())[-1] == black
    assert hass.states.get(LIGHT).state == STATE_OFF

    # Keep-alive: without any command, the last frame is sent again.
    await _turn_on(hass, **{ATTR_RGB_COLOR: (0, 0, 255), ATTR_BRIGHTNESS: 255})
    blue = b"Ada\x00\x02\x57" + bytes([0, 0, 255]) * 3
    assert adalight_frames(socat_pair.read_all())[-1] == blue
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=KEEPALIVE_S + 0.1))
    await hass.async_block_till_done()
    assert adalight_frames(socat_pair.read_all()) == [blue]

    # Unplug: the next keep-alive write fails and the light becomes unavailable.
    socat_pair.stop()
    now = dt_util.utcnow()
    for step in range(1, 6):
        async_fire_time_changed(hass, now + timedelta(seconds=step * (KEEPALIVE_S + 0.1)))
        await hass.async_block_till_done()
        if hass.states.get(LIGHT).state == STATE_UNAVAILABLE:
            break
    assert hass.states.get(LIGHT).state == STATE_UNAVAILABLE

    # Replug: a reconnect attempt (at most the back-off cap later) reopens and restores the colour.
    # The first attempt may race socat bringing the pty pair up (EIO); the back-off retries it.
    socat_pair.start()
    now = dt_util.utcnow()
    for step in range(1, 6):
        async_fire_time_changed(hass, now + timedelta(seconds=step * 120))
        await hass.async_block_till_done()
        if hass.states.get(LIGHT).state == STATE_ON:
            break
    state = hass.states.get(LIGHT)
    assert state.state == STATE_ON
    assert state.attributes[ATTR_RGB_COLOR] == (0, 0, 255)
    assert adalight_frames(socat_pair.read_all())[-1] == blue

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.NOT_LOADED


async def test_unplugged_strip_is_logged_once_not_per_attempt(
    hass: HomeAssistant, socat_pair: ConnectedSocatPair, caplog: pytest.LogCaptureFixture
) -> None:
    entry = strip_entry(str(socat_pair.strip_path))
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    socat_pair.stop()
    now = dt_util.utcnow()
    for step in range(1, 30):
        async_fire_time_changed(hass, now + timedelta(seconds=step * 10))
        await hass.async_block_till_done()
    assert hass.states.get(LIGHT).state == STATE_UNAVAILABLE
    assert caplog.text.count("is unavailable") == 1
    assert "Traceback" not in caplog.text
    socat_pair.start()
    async_fire_time_changed(hass, now + timedelta(seconds=30 * 10 + 120))
    await hass.async_block_till_done()
    assert hass.states.get(LIGHT).state == STATE_OFF
    assert caplog.text.count("is available again") == 1
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.parametrize(
    ("protocol", "expected"),
    [
        ("adalight", b"Ada\x00\x01\x54" + bytes([10, 20, 30]) * 2),
        # Payload 10,20,30,10,20,30: fletcher1 = 120; fletcher2 = 10+30+60+70+90+120 = 380 % 255
        # = 125; extended = (10^0)+(20^1)+(30^2)+(10^3)+(20^4)+(30^5) = 10+21+28+9+16+27 = 111.
        ("awa", b"Awa\x00\x01\x54" + bytes([10, 20, 30]) * 2 + bytes([120, 125, 111])),
        ("tpm2", bytes([0xC9, 0xDA, 0x00, 0x06]) + bytes([10, 20, 30]) * 2 + b"\x36"),
    ],
)
async def test_light_speaks_each_protocol(
    hass: HomeAssistant, socat_pair: ConnectedSocatPair, protocol: str, expected: bytes
) -> None:
    entry = strip_entry(str(socat_pair.strip_path), led_count=2, protocol=protocol)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    socat_pair.read_all()
    await _turn_on(hass, **{ATTR_RGB_COLOR: (10, 20, 30), ATTR_BRIGHTNESS: 255})
    assert socat_pair.read_all() == expected
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_strip_whose_port_is_missing_is_retried_not_failed(
    hass: HomeAssistant, device_dir: Path
) -> None:
    entry = strip_entry(str(device_dir / "ttyUSB-gone"))
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert "ttyUSB-gone" in (entry.reason or "")


async def test_mood_lighting_drives_the_strip_like_any_light(
    hass: HomeAssistant, socat_pair: ConnectedSocatPair
) -> None:
    from custom_components.music_mood.mood_lighting import (
        MoodLightingDriver,
        MoodLightingSettings,
    )

    from .mood_fakes import Clock, FakeMoodSource, Reading

    entry = strip_entry(str(socat_pair.strip_path))
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    socat_pair.read_all()

    source, clock = FakeMoodSource(), Clock()
    driver = MoodLightingDriver(
        hass, source, MoodLightingSettings.from_options({"mood_lights": [LIGHT]}), clock=clock
    )
    driver.async_enable()
    source.push(Reading(valence=1.0, arousal=1.0))
    await hass.async_block_till_done()
    # Happy at full arousal: the wheel's yellow-orange at full brightness, on all three LEDs.
    assert (
        adalight_frames(socat_pair.read_all())[-1] == b"Ada\x00\x02\x57" + bytes([255, 170, 0]) * 3
    )
    assert hass.states.get(LIGHT).state == STATE_ON

    clock.next_hop()
    source.push(Reading(valence=1.0, arousal=1.0, playing=False))
    await hass.async_block_till_done()
    # The strip was off before the music: it is turned off again.
    assert adalight_frames(socat_pair.read_all())[-1] == b"Ada\x00\x02\x57" + bytes(9)
    assert hass.states.get(LIGHT).state == STATE_OFF
    driver.async_disable()
    assert await hass.config_entries.async_unload(entry.entry_id)
