"""Music Mood: listens to music, reports its valence, arousal and mood, and colours lights."""

from __future__ import annotations

from pathlib import Path

from homeassistant.components.ffmpeg import get_ffmpeg_manager
from homeassistant.const import EVENT_HOMEASSISTANT_STOP, Platform
from homeassistant.core import Event, HomeAssistant
from homeassistant.exceptions import ConfigEntryError, ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.typing import ConfigType

from .audio_source import REASON_FILE_NOT_FOUND, AudioSource, SourceError, parse_ffmpeg_input
from .const import (
    CONF_ENTRY_KIND,
    CONF_LOOP_FILE,
    CONF_MODEL,
    CONF_MOOD_DEAD_BAND,
    CONF_MOOD_DWELL_S,
    CONF_SILENCE_DURATION_S,
    CONF_SILENCE_THRESHOLD_DB,
    CONF_SMOOTHING_S,
    CONF_SOURCE,
    CONF_SOURCE_TYPE,
    DEFAULT_LOOP_FILE,
    DEFAULT_SILENCE_DURATION_S,
    DEFAULT_SILENCE_THRESHOLD_DB,
    DEFAULT_SMOOTHING_S,
    DOMAIN,
    ENTRY_KIND_SERIAL_STRIP,
    ISSUE_MODEL_UNUSABLE,
    RESTART_BACKOFF_MAX_S,
    RESTART_BACKOFF_MIN_S,
    SOURCE_TYPE_FFMPEG,
    STALL_TIMEOUT_S,
    USER_MODEL_DIR,
)
from .music_mood_core.audio import redact_source
from .music_mood_core.mood import DEFAULT_DEAD_BAND, DEFAULT_DWELL_S
from .pipeline import (
    MODEL_CHECK_INTERVAL_S,
    MoodPipeline,
    MusicMoodConfigEntry,
    MusicMoodData,
    PipelineSettings,
)
from .reload import async_reload_on_options_change
from .services import async_setup_services
from .source_identity import async_ensure_unique_id
from .strip import async_setup_serial_strip_entry, async_unload_serial_strip_entry

ANALYSER_PLATFORMS: list[Platform] = [Platform.SENSOR, Platform.BINARY_SENSOR, Platform.SWITCH]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the integration-wide actions (they must exist even with no entry loaded)."""
    async_setup_services(hass)
    return True


def pipeline_settings(entry: MusicMoodConfigEntry) -> PipelineSettings:
    options = entry.options
    return PipelineSettings(
        smoothing_s=float(options.get(CONF_SMOOTHING_S, DEFAULT_SMOOTHING_S)),
        silence_threshold_db=float(
            options.get(CONF_SILENCE_THRESHOLD_DB, DEFAULT_SILENCE_THRESHOLD_DB)
        ),
        silence_duration_s=float(options.get(CONF_SILENCE_DURATION_S, DEFAULT_SILENCE_DURATION_S)),
        mood_dead_band=float(options.get(CONF_MOOD_DEAD_BAND, DEFAULT_DEAD_BAND)),
        mood_dwell_s=float(options.get(CONF_MOOD_DWELL_S, DEFAULT_DWELL_S)),
        loop_file=bool(options.get(CONF_LOOP_FILE, DEFAULT_LOOP_FILE)),
        stall_timeout_s=STALL_TIMEOUT_S,
        backoff_min_s=RESTART_BACKOFF_MIN_S,
        backoff_max_s=RESTART_BACKOFF_MAX_S,
        model_check_interval_s=MODEL_CHECK_INTERVAL_S,
    )


async def async_setup_entry(hass: HomeAssistant, entry: MusicMoodConfigEntry) -> bool:
    if entry.data.get(CONF_ENTRY_KIND) == ENTRY_KIND_SERIAL_STRIP:
        return await async_setup_serial_strip_entry(hass, entry)

    async_ensure_unique_id(hass, entry)
    await _async_check_source(hass, entry)
    pipeline = MoodPipeline(
        hass,
        entry_id=entry.entry_id,
        name=entry.title,
        source=AudioSource(hass, entry.data[CONF_SOURCE_TYPE], entry.data[CONF_SOURCE]),
        model_id=entry.data[CONF_MODEL],
        user_model_dir=Path(hass.config.path(USER_MODEL_DIR)),
        ffmpeg_binary=get_ffmpeg_manager(hass).binary,
        settings=pipeline_settings(entry),
    )
    entry.runtime_data = MusicMoodData(pipeline=pipeline)
    await hass.config_entries.async_forward_entry_setups(entry, ANALYSER_PLATFORMS)
    pipeline.async_start(entry)

    async def _async_stop_pipeline(_event: Event) -> None:
        await pipeline.async_stop()

    entry.async_on_unload(
        hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, _async_stop_pipeline)
    )
    async_reload_on_options_change(entry)
    return True


async def _async_check_source(hass: HomeAssistant, entry: MusicMoodConfigEntry) -> None:
    """Test before setup: a configured path that is no longer usable stops setup, saying why.

    Network streams and entities are not tested here: their outages are the pipeline's to ride out.
    """
    if entry.data[CONF_SOURCE_TYPE] != SOURCE_TYPE_FFMPEG:
        return
    try:
        await hass.async_add_executor_job(parse_ffmpeg_input, hass, entry.data[CONF_SOURCE])
    except SourceError as error:
        placeholders = {"source": redact_source(entry.data[CONF_SOURCE]), "detail": error.detail}
        if error.reason == REASON_FILE_NOT_FOUND:
            raise ConfigEntryNotReady(
                translation_domain=DOMAIN,
                translation_key="source_file_not_found",
                translation_placeholders=placeholders,
            ) from error
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="source_not_usable",
            translation_placeholders=placeholders,
        ) from error


async def async_unload_entry(hass: HomeAssistant, entry: MusicMoodConfigEntry) -> bool:
    if entry.data.get(CONF_ENTRY_KIND) == ENTRY_KIND_SERIAL_STRIP:
        return await async_unload_serial_strip_entry(hass, entry)
    unloaded = await hass.config_entries.async_unload_platforms(entry, ANALYSER_PLATFORMS)
    # Stop even if a platform refused: ffmpeg must never outlive its entry.
    await entry.runtime_data.pipeline.async_stop()
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: MusicMoodConfigEntry) -> None:
    """A removed analyser leaves no repair issue behind."""
    ir.async_delete_issue(hass, DOMAIN, f"{ISSUE_MODEL_UNUSABLE}_{entry.entry_id}")
