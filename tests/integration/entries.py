"""Config entries as the flows create them: an analyser on a source, a serial strip on a port."""

from __future__ import annotations

from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.music_mood.const import (
    CONF_BAUDRATE,
    CONF_ENTRY_KIND,
    CONF_KEEPALIVE_S,
    CONF_LED_COUNT,
    CONF_LOOP_FILE,
    CONF_MODEL,
    CONF_PORT,
    CONF_PROTOCOL,
    CONF_SILENCE_DURATION_S,
    CONF_SILENCE_THRESHOLD_DB,
    CONF_SMOOTHING_S,
    CONF_SOURCE,
    CONF_SOURCE_TYPE,
    DOMAIN,
    ENTRY_KIND_ANALYSER,
    ENTRY_KIND_SERIAL_STRIP,
    SOURCE_TYPE_FFMPEG,
)

from .assets import TEST_MODEL_ID

STRIP_KEEPALIVE_S = 2.0


def analyser_entry(
    source: str,
    *,
    model: str = TEST_MODEL_ID,
    source_type: str = SOURCE_TYPE_FFMPEG,
    **options: object,
) -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        title="Living room",
        unique_id=f"{source_type}:{source}",
        data={
            CONF_ENTRY_KIND: ENTRY_KIND_ANALYSER,
            CONF_SOURCE_TYPE: source_type,
            CONF_SOURCE: source,
            CONF_MODEL: model,
        },
        options={
            CONF_SMOOTHING_S: 1.0,
            CONF_SILENCE_THRESHOLD_DB: -50.0,
            CONF_SILENCE_DURATION_S: 1.0,
            CONF_LOOP_FILE: False,
        }
        | options,
    )


def strip_entry(port: str, led_count: int = 3, protocol: str = "adalight") -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        title="Desk strip",
        unique_id=port,
        data={
            CONF_ENTRY_KIND: ENTRY_KIND_SERIAL_STRIP,
            CONF_PORT: port,
            CONF_BAUDRATE: 115200,
            CONF_LED_COUNT: led_count,
            CONF_PROTOCOL: protocol,
        },
        options={CONF_KEEPALIVE_S: STRIP_KEEPALIVE_S},
    )
