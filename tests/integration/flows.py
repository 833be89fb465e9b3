"""Steps of the config flow that several tests walk through before the part they test."""

from __future__ import annotations

from homeassistant.config_entries import SOURCE_USER
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from custom_components.music_mood.const import (
    CONF_MODEL,
    CONF_SOURCE_TYPE,
    DOMAIN,
    SOURCE_TYPE_FFMPEG,
)

from .assets import TEST_MODEL_ID


async def start_analyser_flow(
    hass: HomeAssistant, *, source_type: str = SOURCE_TYPE_FFMPEG, model: str = TEST_MODEL_ID
) -> dict:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["analyser", "serial_strip"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "analyser"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "analyser"
    return await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_NAME: "Kitchen", CONF_SOURCE_TYPE: source_type, CONF_MODEL: model},
    )


async def analyser_source_step(
    hass: HomeAssistant, source_type: str, user_input: dict, *, model: str = TEST_MODEL_ID
) -> dict:
    """The analyser flow up to its source form, which is then submitted with ``user_input``."""
    result = await start_analyser_flow(hass, source_type=source_type, model=model)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "source"
    return await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
