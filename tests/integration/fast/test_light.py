"""The serial strip's light on a socat pty: state snapshot, exact frames, timed keep-alive."""

from __future__ import annotations

from datetime import timedelta

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.light import ATTR_BRIGHTNESS, ATTR_RGB_COLOR
from homeassistant.const import ATTR_ENTITY_ID, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from syrupy.assertion import SnapshotAssertion

from custom_components.music_mood.const import CONF_KEEPALIVE_S

from ..serial_strip import ConnectedSocatPair, adalight_frames
from .snapshots import entities_of_entry

LIGHT = "light.desk_strip_led_strip"


@pytest.mark.usefixtures("init_strip")
async def test_strip_light(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    entity_registry: er.EntityRegistry,
    mock_strip_entry: MockConfigEntry,
    socat_pair: ConnectedSocatPair,
    snapshot: SnapshotAssertion,
) -> None:
    socat_pair.read_all()
    await hass.services.async_call(
        "light",
        "turn_on",
        {ATTR_ENTITY_ID: LIGHT, ATTR_RGB_COLOR: (255, 0, 0), ATTR_BRIGHTNESS: 255},
        blocking=True,
    )
    assert hass.states.get(LIGHT).state == STATE_ON
    assert adalight_frames(socat_pair.read_all()) == [b"Ada\x00\x02\x57" + b"\xff\x00\x00" * 3]
    snapshot_data = entities_of_entry(hass, entity_registry, mock_strip_entry.entry_id)
    assert snapshot_data == snapshot(name="red")

    # Nothing changes: the last frame is sent again every keep-alive interval, by the clock.
    freezer.tick(timedelta(seconds=mock_strip_entry.options[CONF_KEEPALIVE_S]))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    resent = adalight_frames(socat_pair.read_all())
    assert resent, "the keep-alive resent the frame"
    assert set(resent) == {b"Ada\x00\x02\x57" + b"\xff\x00\x00" * 3}
