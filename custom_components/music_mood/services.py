"""The ``music_mood.analyze`` action: a whole file or URL in, its valence/arousal timeline out.

It decodes with the same ffmpeg arguments and runs the same excerpt path and model as the live
pipeline,
so its numbers are what an analyser listening to the same audio would report before smoothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import numpy as np
import voluptuous as vol
from homeassistant.components.ffmpeg import get_ffmpeg_manager
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.util.json import JsonValueType

from .audio_source import SourceError, parse_ffmpeg_input
from .const import (
    ATTR_CONFIG_ENTRY_ID,
    CONF_MODEL,
    CONF_SOURCE,
    DOMAIN,
    SERVICE_ANALYZE,
    USER_MODEL_DIR,
)
from .music_mood_core.audio import AudioDecodeError, decode_file, redact_url
from .music_mood_core.features import ExcerptStream, FrameGrid
from .music_mood_core.model import (
    DEFAULT_MODEL_ID,
    ModelError,
    MoodModel,
    load_model,
    resolve_model,
)

_BATCH: Final = 32
_DECODE_TIMEOUT_S: Final = 600.0

ANALYZE_SCHEMA: Final = vol.Schema(
    {
        vol.Required(CONF_SOURCE): cv.string,
        vol.Optional(CONF_MODEL): cv.string,
        vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string,
    }
)


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    hass.services.async_register(
        DOMAIN,
        SERVICE_ANALYZE,
        _async_analyze,
        schema=ANALYZE_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )


def _model_id_for(call: ServiceCall) -> str:
    if CONF_MODEL in call.data:
        return str(call.data[CONF_MODEL])
    entry_id = call.data.get(ATTR_CONFIG_ENTRY_ID)
    if entry_id is None:
        return DEFAULT_MODEL_ID
    entry = call.hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN or CONF_MODEL not in entry.data:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="unknown_analyser",
            translation_placeholders={"entry_id": str(entry_id)},
        )
    return str(entry.data[CONF_MODEL])


async def _async_analyze(call: ServiceCall) -> ServiceResponse:
    hass = call.hass
    source: str = call.data[CONF_SOURCE]
    shown = redact_url(source)
    model_id = _model_id_for(call)
    try:
        ffmpeg_input = await hass.async_add_executor_job(parse_ffmpeg_input, hass, source)
    except SourceError as error:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key=f"analyze_{error.reason}",
            translation_placeholders={"source": shown},
        ) from error
    if ffmpeg_input.is_capture_device:
        # A capture device never ends: there is no whole file to analyse.
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="analyze_invalid_source",
            translation_placeholders={"source": shown},
        )
    user_model_dir = Path(hass.config.path(USER_MODEL_DIR))
    try:
        model = await hass.async_add_executor_job(_load, model_id, user_model_dir)
    except ModelError as error:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="analyze_invalid_model",
            translation_placeholders={"model": model_id, "reason": error.reason},
        ) from error
    ffmpeg_binary = get_ffmpeg_manager(hass).binary
    try:
        timeline = await hass.async_add_executor_job(
            analyze_timeline, ffmpeg_input.source, model, ffmpeg_binary
        )
    except AudioDecodeError as error:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="analyze_decode_failed",
            translation_placeholders={"source": shown, "error": redact_url(str(error))},
        ) from error
    return {"timeline": timeline}


def _load(model_id: str, user_model_dir: Path) -> MoodModel:
    return load_model(resolve_model(model_id, user_model_dir))


def analyze_timeline(source: str, model: MoodModel, ffmpeg_binary: str) -> list[JsonValueType]:
    """Blocking: decode ``source``, predict every hop; ``time`` = excerpt end in seconds."""
    info = model.info
    sample_rate = int(info.sample_rate)
    samples = decode_file(
        source, sample_rate, ffmpeg_binary=ffmpeg_binary, timeout_s=_DECODE_TIMEOUT_S
    )
    stream = ExcerptStream(
        FrameGrid.from_seconds(sample_rate, info.window_s, info.step_s),
        sequence_length=int(info.sequence_length),
        hop_samples=round(info.hop_s * sample_rate),
    )
    timeline: list[JsonValueType] = []
    step = stream.hop_samples * _BATCH
    for start in range(0, samples.size, step):
        windows = stream.push(samples[start : start + step])
        if not windows:
            continue
        outputs = model.predict(np.stack([window.features for window in windows]))
        timeline.extend(
            {
                "time": round(window.end_sample / sample_rate, 4),
                "valence": round(float(valence), 4),
                "arousal": round(float(arousal), 4),
            }
            for (valence, arousal), window in zip(outputs, windows, strict=True)
        )
    return timeline
