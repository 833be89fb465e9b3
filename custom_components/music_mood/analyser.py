"""Analyser entries: a source analysed into mood entities, and the lights that follow the mood."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

from homeassistant.components.ffmpeg import get_ffmpeg_manager
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryError, ConfigEntryNotReady
from homeassistant.helpers import issue_registry as ir

from .audio_source import REASON_FILE_NOT_FOUND, AudioSource, SourceError, parse_ffmpeg_input
from .const import (
    CONF_DELAY_S,
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
    MODEL_CHECK_INTERVAL_S,
    RESTART_BACKOFF_MAX_S,
    RESTART_BACKOFF_MIN_S,
    SOURCE_PROBE_TIMEOUT_S,
    SOURCE_TYPE_FFMPEG,
    STALL_TIMEOUT_S,
    USER_MODEL_DIR,
)
from .coordinator import AnalyserCoordinator, AnalyserSettings
from .model_holder import ModelHolder, model_issue_id
from .mood_lighting import MoodLightingDriver, MoodLightingSettings
from .music_mood_core.audio import redact_source, redact_url
from .music_mood_core.delay import DEFAULT_DELAY_S, MAX_DELAY_S, MIN_DELAY_S
from .music_mood_core.mood import DEFAULT_DEAD_BAND, DEFAULT_DWELL_S
from .source_identity import async_ensure_unique_id

ANALYSER_PLATFORMS: Final = (Platform.SENSOR, Platform.BINARY_SENSOR, Platform.SWITCH)


@dataclass(slots=True)
class AnalyserRuntime:
    """Runtime data of an analyser entry (``entry.runtime_data``)."""

    coordinator: AnalyserCoordinator
    # Built here, not by the switch: the switch only turns it on and off.
    lighting: MoodLightingDriver

    @callback
    def async_start(self) -> None:
        self.coordinator.async_start()

    async def async_stop(self) -> None:
        await self.coordinator.async_stop()

    def diagnostics(self) -> dict[str, Any]:
        return _diagnostics(self.coordinator)


AnalyserConfigEntry = ConfigEntry[AnalyserRuntime]


def analyser_settings(entry: ConfigEntry[Any]) -> AnalyserSettings:
    """The entry's options and the timing constants (read at setup, so tests may shorten them)."""
    options = entry.options
    return AnalyserSettings(
        smoothing_s=float(options.get(CONF_SMOOTHING_S, DEFAULT_SMOOTHING_S)),
        silence_threshold_db=float(
            options.get(CONF_SILENCE_THRESHOLD_DB, DEFAULT_SILENCE_THRESHOLD_DB)
        ),
        silence_duration_s=float(options.get(CONF_SILENCE_DURATION_S, DEFAULT_SILENCE_DURATION_S)),
        mood_dead_band=float(options.get(CONF_MOOD_DEAD_BAND, DEFAULT_DEAD_BAND)),
        mood_dwell_s=float(options.get(CONF_MOOD_DWELL_S, DEFAULT_DWELL_S)),
        loop_file=bool(options.get(CONF_LOOP_FILE, DEFAULT_LOOP_FILE)),
        # The options form keeps it in range; a hand-edited value is clamped, not refused.
        delay_s=min(
            max(float(options.get(CONF_DELAY_S, DEFAULT_DELAY_S)), MIN_DELAY_S), MAX_DELAY_S
        ),
        stall_timeout_s=STALL_TIMEOUT_S,
        probe_timeout_s=SOURCE_PROBE_TIMEOUT_S,
        backoff_min_s=RESTART_BACKOFF_MIN_S,
        backoff_max_s=RESTART_BACKOFF_MAX_S,
        model_check_interval_s=MODEL_CHECK_INTERVAL_S,
    )


async def async_create_analyser_runtime(
    hass: HomeAssistant, entry: AnalyserConfigEntry
) -> AnalyserRuntime:
    async_ensure_unique_id(hass, entry)
    await _async_check_source(hass, entry)
    models = ModelHolder(
        hass,
        entry_id=entry.entry_id,
        name=entry.title,
        model_id=entry.data[CONF_MODEL],
        user_model_dir=Path(hass.config.path(USER_MODEL_DIR)),
    )
    coordinator = AnalyserCoordinator(
        hass,
        entry,
        source=AudioSource(
            hass,
            entry.data[CONF_SOURCE_TYPE],
            entry.data[CONF_SOURCE],
            settings=entry.data,
            # What Music Assistant lists this analyser as, when it is a Sendspin player.
            player_id=f"music-mood-{entry.entry_id}",
            name=entry.title,
        ),
        models=models,
        ffmpeg_binary=get_ffmpeg_manager(hass).binary,
        settings=analyser_settings(entry),
    )
    lighting = MoodLightingDriver(
        hass, coordinator, MoodLightingSettings.from_options(entry.options)
    )
    return AnalyserRuntime(coordinator=coordinator, lighting=lighting)


@callback
def async_remove_analyser_entry(hass: HomeAssistant, entry: ConfigEntry[Any]) -> None:
    """A removed analyser leaves no repair issue behind."""
    ir.async_delete_issue(hass, DOMAIN, model_issue_id(entry.entry_id))


async def _async_check_source(hass: HomeAssistant, entry: AnalyserConfigEntry) -> None:
    """Test before setup: a configured path that is no longer usable stops setup, saying why.

    Network streams and entities are not tested here: their outages are the stream loop's to ride
    out.
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


def _diagnostics(coordinator: AnalyserCoordinator) -> dict[str, Any]:
    stats = asdict(coordinator.stats)
    if stats.get("last_error"):
        stats["last_error"] = redact_url(str(stats["last_error"]))
    reading = coordinator.data
    model = coordinator.model
    return {
        "pipeline": {
            "status": coordinator.status.value,
            "status_detail": redact_url(coordinator.status_detail or "") or None,
            "source": coordinator.source.redacted,
            "hop_seconds": coordinator.hop_seconds,
            "settings": asdict(coordinator.settings),
            # How the current source honours the delay option (a live one cannot read ahead), and
            # how many readings came too late for it (an advance beyond the source's lead).
            "delay": {
                **asdict(coordinator.stream.delay_plan),
                **asdict(coordinator.delay_lateness),
            },
            "reading": None if reading is None else asdict(reading),
            "stats": stats,
        },
        # A Sendspin source's player: connection, clock sync, the stream it receives.
        **(
            {"sendspin": coordinator.source.sendspin.diagnostics()}
            if coordinator.source.sendspin is not None
            else {}
        ),
        "model": None
        if model is None
        else {
            "id": coordinator.models.model_id,
            "file": model.info.path.name,
            "engine": model.engine,
            "sample_rate": model.info.sample_rate,
            "sequence_length": model.info.sequence_length,
            "hop_s": model.info.hop_s,
            "description": model.info.description,
            "feature_extractor_version": model.info.feature_extractor_version,
        },
    }
