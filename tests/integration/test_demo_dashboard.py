"""The demo's seeded dashboard (demo/seed.py) is what a browser opens first, on both versions.

Home Assistant 2025.4 serves .storage/lovelace as the default dashboard. 2026.x moves it to a
dashboard at /lovelace and makes that the default panel (frontend.system_data "default_panel").
Either way the start page must be the Music Mood dashboard, not a generated overview.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from awesomeversion import AwesomeVersion
from homeassistant.const import EVENT_HOMEASSISTANT_FINAL_WRITE
from homeassistant.const import __version__ as HA_VERSION
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component

from tests.file_modules import load_file_module

REPO_ROOT = Path(__file__).resolve().parents[2]


def _seed_module() -> Any:
    return load_file_module("demo/seed.py", "demo_seed")


async def test_the_seeded_dashboard_is_the_start_page(
    hass: HomeAssistant, hass_storage: dict[str, Any], hass_ws_client: Any
) -> None:
    seed = _seed_module()
    hass_storage["lovelace"] = seed.seeded_dashboard()

    assert await async_setup_component(hass, "lovelace", {})
    await hass.async_block_till_done()
    # Writes delayed by Home Assistant's stores are written now, as at shutdown.
    hass.bus.async_fire(EVENT_HOMEASSISTANT_FINAL_WRITE)
    await hass.async_block_till_done()

    dashboards = [
        item["url_path"]
        for item in hass_storage.get("lovelace_dashboards", {}).get("data", {}).get("items", [])
    ]
    if AwesomeVersion(HA_VERSION) >= AwesomeVersion("2026.1.0"):
        # Moved to the "lovelace" dashboard, which the frontend opens as the default panel.
        assert dashboards == ["lovelace"]
        system_data = hass_storage["frontend.system_data"]["data"]
        assert system_data["core"]["default_panel"] == "lovelace"
        url_path = "lovelace"
    else:
        # The built-in default dashboard, which the frontend opens at /.
        assert dashboards == []
        url_path = None

    client = await hass_ws_client(hass)
    await client.send_json_auto_id({"type": "lovelace/config", "url_path": url_path})
    response = await client.receive_json()
    assert response["success"], response
    config = response["result"]
    assert config["title"] == "Music Mood"
    assert config == seed.music_mood_dashboard()
