"""Diagnostics of an analyser entry, with every credential in the source redacted."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .const import CONF_ENTRY_KIND, CONF_SOURCE, ENTRY_KIND_SERIAL_STRIP
from .music_mood_core.audio import redact_source, redact_url
from .pipeline import MusicMoodConfigEntry

# Keys whose values are secrets wherever they appear (the source itself goes through redact_source).
TO_REDACT = {"username", "password", "token", "api_key"}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: MusicMoodConfigEntry
) -> dict[str, Any]:
    data = dict(entry.data)
    if CONF_SOURCE in data:
        data[CONF_SOURCE] = redact_source(str(data[CONF_SOURCE]))
    result: dict[str, Any] = {
        "entry": {"title": entry.title, "data": data, "options": dict(entry.options)},
    }
    if entry.data.get(CONF_ENTRY_KIND) == ENTRY_KIND_SERIAL_STRIP:
        return async_redact_data(result, TO_REDACT)
    pipeline = entry.runtime_data.pipeline
    model = pipeline.model
    stats = asdict(pipeline.stats)
    if stats.get("last_error"):
        stats["last_error"] = redact_url(str(stats["last_error"]))
    result["pipeline"] = {
        "status": pipeline.status.value,
        "status_detail": redact_url(pipeline.status_detail or "") or None,
        "source": pipeline.source.redacted,
        "hop_seconds": pipeline.hop_seconds,
        "settings": asdict(pipeline.settings),
        "reading": None if pipeline.reading is None else asdict(pipeline.reading),
        "stats": stats,
    }
    result["model"] = (
        None
        if model is None
        else {
            "id": pipeline.model_id,
            "file": model.info.path.name,
            "engine": model.engine,
            "sample_rate": model.info.sample_rate,
            "sequence_length": model.info.sequence_length,
            "hop_s": model.info.hop_s,
            "description": model.info.description,
            "feature_extractor_version": model.info.feature_extractor_version,
        }
    )
    return async_redact_data(result, TO_REDACT)
