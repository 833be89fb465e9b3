"""Adding, reconfiguring and tuning a serial LED strip through the real config and options flows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from homeassistant.config_entries import SOURCE_USER, ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er

from custom_components import music_mood
from custom_components.music_mood.const import (
    CONF_BAUDRATE,
    CONF_ENTRY_KIND,
    CONF_KEEPALIVE_S,
    CONF_LED_COUNT,
    CONF_PORT,
    CONF_PROTOCOL,
    DEFAULT_KEEPALIVE_S,
    DOMAIN,
    ENTRY_KIND_SERIAL_STRIP,
)
from tests.serial_pty import running

from .test_light_strip import ConnectedSocatPair, adalight_frames, strip_entry


@pytest.fixture
def socat_pair(tmp_path: Path) -> Iterator[ConnectedSocatPair]:
    yield from running(ConnectedSocatPair(tmp_path))


async def _strip_form(hass: HomeAssistant) -> str:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.MENU
    assert "serial_strip" in result["menu_options"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "serial_strip"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "serial_strip"
    return str(result["flow_id"])


def _user_input(port: str, **changes: object) -> dict[str, object]:
    return {
        CONF_PORT: port,
        CONF_BAUDRATE: "115200",
        CONF_LED_COUNT: 4,
        CONF_PROTOCOL: "adalight",
    } | changes


async def test_strip_is_added_after_its_port_opens(
    hass: HomeAssistant, socat_pair: ConnectedSocatPair
) -> None:
    flow_id = await _strip_form(hass)
    port = str(socat_pair.strip_path)
    result = await hass.config_entries.flow.async_configure(flow_id, _user_input(port))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {
        CONF_ENTRY_KIND: ENTRY_KIND_SERIAL_STRIP,
        CONF_PORT: port,
        CONF_BAUDRATE: 115200,
        CONF_LED_COUNT: 4,
        CONF_PROTOCOL: "adalight",
    }
    assert result["options"] == {CONF_KEEPALIVE_S: DEFAULT_KEEPALIVE_S}
    entry = result["result"]
    assert entry.unique_id == port
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    lights = er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    assert [light.domain for light in lights] == ["light"]
    assert hass.states.get(lights[0].entity_id).state == "off"

    # The same port again is refused.
    flow_id = await _strip_form(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, _user_input(port))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "strip_already_configured"
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_port_that_cannot_open_is_a_form_error_then_recovers(
    hass: HomeAssistant, tmp_path: Path, socat_pair: ConnectedSocatPair
) -> None:
    flow_id = await _strip_form(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _user_input(str(tmp_path / "ttyACM9"))
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "cannot_open_port"}
    assert "ttyACM9" in result["description_placeholders"]["error"]

    result = await hass.config_entries.flow.async_configure(
        flow_id, _user_input(str(socat_pair.strip_path), **{CONF_BAUDRATE: "fast"})
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_BAUDRATE: "invalid_baudrate"}

    result = await hass.config_entries.flow.async_configure(
        flow_id, _user_input(str(socat_pair.strip_path), **{CONF_BAUDRATE: "230400"})
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_BAUDRATE] == 230400
    await hass.async_block_till_done()
    assert await hass.config_entries.async_unload(result["result"].entry_id)


async def test_reconfigure_changes_the_strip_and_reloads_it(
    hass: HomeAssistant,
    socat_pair: ConnectedSocatPair,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    setups: list[str] = []
    real_setup_entry = music_mood.async_setup_entry

    async def counting_setup_entry(hass: HomeAssistant, entry: ConfigEntry[Any]) -> bool:
        setups.append(entry.entry_id)
        return await real_setup_entry(hass, entry)

    monkeypatch.setattr(music_mood, "async_setup_entry", counting_setup_entry)
    entry = strip_entry(str(socat_pair.strip_path), led_count=3)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert len(setups) == 1

    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure_serial_strip"

    # A new port that does not open is refused and the entry keeps its data.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _user_input(str(tmp_path / "nothing-here"))
    )
    assert result["errors"] == {"base": "cannot_open_port"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _user_input(str(socat_pair.strip_path), **{CONF_LED_COUNT: 2})
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "strip_reconfigured"
    await hass.async_block_till_done()
    assert entry.data[CONF_LED_COUNT] == 2
    assert entry.state is ConfigEntryState.LOADED
    # Reconfigure reloads once; the options listener must not add a second reload.
    assert len(setups) == 2

    # The reloaded strip frames two LEDs now.
    socat_pair.read_all()
    await hass.services.async_call(
        "light",
        "turn_on",
        {"entity_id": "light.desk_strip_led_strip", "rgb_color": (1, 2, 3), "brightness": 255},
        blocking=True,
    )
    assert adalight_frames(socat_pair.read_all())[-1] == b"Ada\x00\x01\x54" + bytes([1, 2, 3]) * 2
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_options_change_the_keepalive_and_reload(
    hass: HomeAssistant, socat_pair: ConnectedSocatPair
) -> None:
    entry = strip_entry(str(socat_pair.strip_path))
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "strip_options"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_KEEPALIVE_S: 4.5}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.options[CONF_KEEPALIVE_S] == 4.5
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.connection.keepalive.total_seconds() == 4.5
    assert await hass.config_entries.async_unload(entry.entry_id)
