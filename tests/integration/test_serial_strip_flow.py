"""Adding, reconfiguring and tuning a serial LED strip through the real config and options flows."""

from __future__ import annotations

import socket
import threading
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
from tests.serial_pty import device_directory, running

from .entries import strip_entry
from .processes import wait_for
from .serial_strip import ConnectedSocatPair, adalight_frames


@pytest.fixture
def device_dir() -> Iterator[Path]:
    yield from device_directory()


@pytest.fixture
def socat_pair(device_dir: Path) -> Iterator[ConnectedSocatPair]:
    yield from running(ConnectedSocatPair(device_dir))


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
    hass: HomeAssistant, device_dir: Path, socat_pair: ConnectedSocatPair
) -> None:
    flow_id = await _strip_form(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _user_input(str(device_dir / "ttyACM9"))
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
    device_dir: Path,
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
        result["flow_id"], _user_input(str(device_dir / "nothing-here"))
    )
    assert result["errors"] == {"base": "cannot_open_port"}

    # A pyserial URL that writes files is refused as a form error; the file stays as it was.
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        _user_input(f"spy://{socat_pair.strip_path}?file={victim}"),
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_PORT: "invalid_port"}
    assert "spy://" in result["description_placeholders"]["error"]
    assert victim.read_text() == "keep me"
    assert entry.data[CONF_PORT] == str(socat_pair.strip_path)

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
    assert entry.runtime_data.coordinator.keepalive.total_seconds() == 4.5
    assert await hass.config_entries.async_unload(entry.entry_id)


class TcpController:
    """A network LED controller stand-in: accepts connections and keeps every byte received."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.2)
        self.port = int(self.server.getsockname()[1])
        self.connections = 0
        self.received = bytearray()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.server.accept()
            except TimeoutError:
                continue
            self.connections += 1
            with connection:
                connection.settimeout(0.2)
                while not self._stop.is_set():
                    try:
                        chunk = connection.recv(4096)
                    except TimeoutError:
                        continue
                    if not chunk:
                        break
                    self.received += chunk

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.server.close()


@pytest.fixture
def tcp_controller(socket_enabled: None) -> Iterator[TcpController]:
    controller = TcpController()
    yield controller
    controller.close()


@pytest.mark.parametrize(
    "port",
    [
        "loop://",
        "hwgrep://.*",
        "alt:///dev/ttyS0?class=PosixPollSerial",
        "cp2110://0001:0002:00",
        "/etc/passwd",
        "ttyUSB0",
        "/dev/../etc/passwd",
        "/dev/serial//by-id",
        "/dev/tty USB0",
        "socket://127.0.0.1:0",
        "socket://127.0.0.1:65536",
        "socket://user:secret@127.0.0.1:7777",
        "socket://bad_host:7777",
        "rfc2217://[not-ipv6]:2217",
    ],
)
async def test_ports_outside_the_grammar_are_form_errors(hass: HomeAssistant, port: str) -> None:
    flow_id = await _strip_form(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, _user_input(port))
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_PORT: "invalid_port"}
    assert result["description_placeholders"]["error"]
    assert "secret" not in result["description_placeholders"]["error"]
    assert hass.config_entries.async_entries(DOMAIN) == []


async def test_spy_url_is_refused_and_its_file_untouched(
    hass: HomeAssistant, tmp_path: Path, socat_pair: ConnectedSocatPair
) -> None:
    """pyserial's spy:// truncates ``file=`` as it opens, even when the port then fails."""
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    before = victim.stat()
    flow_id = await _strip_form(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _user_input(f"spy://{socat_pair.strip_path}?file={victim}")
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_PORT: "invalid_port"}
    assert victim.read_text() == "keep me"
    assert victim.stat().st_mtime_ns == before.st_mtime_ns


async def test_socket_url_with_a_query_is_refused_before_connecting(
    hass: HomeAssistant, tcp_controller: TcpController
) -> None:
    flow_id = await _strip_form(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _user_input(f"socket://127.0.0.1:{tcp_controller.port}?logging=debug")
    )
    assert result["errors"] == {CONF_PORT: "invalid_port"}
    # The same controller without the query works (below), so "no connection" means refused.
    assert tcp_controller.connections == 0
    result = await hass.config_entries.flow.async_configure(
        flow_id, _user_input(f"SOCKET://127.0.0.1:{tcp_controller.port}")
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_PORT] == f"socket://127.0.0.1:{tcp_controller.port}"
    await hass.async_block_till_done()
    entry = result["result"]
    assert entry.state is ConfigEntryState.LOADED
    (light,) = er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    await hass.services.async_call(
        "light",
        "turn_on",
        {"entity_id": light.entity_id, "rgb_color": (9, 8, 7), "brightness": 255},
        blocking=True,
    )
    # 4 LEDs: count-1 = 3, checksum 0x00 ^ 0x03 ^ 0x55 = 0x56.
    frame = b"Ada\x00\x03\x56" + bytes([9, 8, 7]) * 4
    await wait_for(lambda: frame in tcp_controller.received, what="the frame at the controller")
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_stored_entry_with_a_refused_port_fails_setup_and_touches_nothing(
    hass: HomeAssistant, tmp_path: Path, socat_pair: ConnectedSocatPair
) -> None:
    """An entry saved before ports were validated: a setup error to reconfigure, no retry loop."""
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    entry = strip_entry(f"spy://{socat_pair.strip_path}?file={victim}")
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert "spy://" in (entry.reason or "")
    assert victim.read_text() == "keep me"
