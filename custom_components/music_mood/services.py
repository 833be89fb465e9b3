"""The ``music_mood.analyze`` action: a whole file or URL in, its valence/arousal timeline out.

It decodes with the same ffmpeg arguments and runs the same excerpt path and model as the live
pipeline, so its numbers are what an analyser listening to the same audio would report before
smoothing.

It makes Home Assistant open a URL or read a file of the caller's choosing, so only administrators
may call it, and only http(s) URLs and allow-listed local files are accepted: no other protocol, no
listening mode, no capture device. Every network failure gives one and the same message, so the
action tells nothing about which hosts or ports answer. What one call may cost is bounded (see
``analysis``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

import voluptuous as vol
from homeassistant.components.ffmpeg import get_ffmpeg_manager
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import UnknownUser
from homeassistant.helpers import config_validation as cv

from . import analysis
from .analysis import (
    AnalysisLimits,
    AnalysisReadError,
    AnalysisTimeoutError,
    AnalysisTooLongError,
    async_analyze_timeline,
)
from .analyze_errors import admin_required, analyze_refused
from .audio_source import (
    REASON_FILE_NOT_FOUND,
    REASON_INVALID_SOURCE,
    REASON_PATH_NOT_ALLOWED,
    FfmpegInput,
    SourceError,
    parse_ffmpeg_input,
)
from .const import (
    ATTR_CONFIG_ENTRY_ID,
    CONF_MODEL,
    CONF_SOURCE,
    DOMAIN,
    SERVICE_ANALYZE,
    USER_MODEL_DIR,
)
from .music_mood_core.audio import redact_source, redact_url
from .music_mood_core.model import (
    DEFAULT_MODEL_ID,
    ModelError,
    MoodModel,
    load_model,
    resolve_model,
)

ANALYZE_URL_SCHEMES: Final = frozenset({"http", "https"})
MAX_SOURCE_LENGTH: Final = 4096
REASON_UNSUPPORTED_SOURCE: Final = "unsupported_source"
# Source refusals with their own message (exceptions "analyze_<reason>"); others are "invalid".
_SOURCE_REASONS: Final = frozenset(
    {
        REASON_INVALID_SOURCE,
        REASON_PATH_NOT_ALLOWED,
        REASON_FILE_NOT_FOUND,
        REASON_UNSUPPORTED_SOURCE,
    }
)

ANALYZE_SCHEMA: Final = vol.Schema(
    {
        # Longer than any URL or path worth opening; refused before anything else looks at it.
        vol.Required(CONF_SOURCE): vol.All(cv.string, vol.Length(min=1, max=MAX_SOURCE_LENGTH)),
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


async def _async_require_admin(call: ServiceCall) -> None:
    """Refuse users who are not administrators, as Home Assistant's own admin actions do.

    A call without a user (an automation or script, which only administrators can write) passes.
    Home Assistant's admin-service helper cannot return a response before 2026.x, hence this.
    """
    user_id = call.context.user_id
    if user_id is None:
        return
    user = await call.hass.auth.async_get_user(user_id)
    if user is None:
        raise UnknownUser(context=call.context)
    if not user.is_admin:
        raise admin_required(call.context)


def _model_id_for(call: ServiceCall) -> str:
    if CONF_MODEL in call.data:
        return str(call.data[CONF_MODEL])
    entry_id = call.data.get(ATTR_CONFIG_ENTRY_ID)
    if entry_id is None:
        return DEFAULT_MODEL_ID
    entry = call.hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN or CONF_MODEL not in entry.data:
        raise analyze_refused("unknown_analyser", entry_id=str(entry_id))
    return str(entry.data[CONF_MODEL])


def parse_analyze_input(hass: HomeAssistant, source: str) -> FfmpegInput:
    """Blocking (filesystem): the shared source grammar, narrowed to http(s) and local files."""
    ffmpeg_input = parse_ffmpeg_input(hass, source)
    if ffmpeg_input.is_local_file:
        return ffmpeg_input
    if ffmpeg_input.is_capture_device:
        raise SourceError(REASON_UNSUPPORTED_SOURCE, "a capture device never ends")
    scheme = urlsplit(ffmpeg_input.source).scheme.lower()
    if scheme not in ANALYZE_URL_SCHEMES:
        raise SourceError(REASON_UNSUPPORTED_SOURCE, f"{scheme}: URLs are not analysed")
    return ffmpeg_input


async def _async_analyze(call: ServiceCall) -> ServiceResponse:
    await _async_require_admin(call)
    hass = call.hass
    source: str = call.data[CONF_SOURCE]
    shown = redact_source(source)
    model_id = _model_id_for(call)
    try:
        ffmpeg_input = await hass.async_add_executor_job(parse_analyze_input, hass, source)
    except SourceError as error:
        reason = error.reason if error.reason in _SOURCE_REASONS else "invalid_source"
        raise analyze_refused(f"analyze_{reason}", source=shown) from error
    except OSError as error:  # e.g. a file name longer than the file system allows
        raise analyze_refused("analyze_invalid_source", source=shown) from error
    user_model_dir = Path(hass.config.path(USER_MODEL_DIR))
    try:
        model = await hass.async_add_executor_job(_load, model_id, user_model_dir)
    except ModelError as error:
        raise analyze_refused(
            "analyze_invalid_model", model=model_id, reason=error.reason
        ) from error
    # Read at call time, so the documented limits are the ones in force.
    limits = AnalysisLimits(max_duration_s=analysis.MAX_DURATION_S, timeout_s=analysis.TIMEOUT_S)
    try:
        timeline = await async_analyze_timeline(
            hass, ffmpeg_input, model, get_ffmpeg_manager(hass).binary, limits=limits
        )
    except AnalysisTooLongError as error:
        raise analyze_refused(
            "analyze_too_long", source=shown, max_duration=f"{limits.max_duration_s / 60:g} min"
        ) from error
    except AnalysisTimeoutError as error:
        raise analyze_refused(
            "analyze_timeout", source=shown, timeout_s=f"{limits.timeout_s:g}"
        ) from error
    except AnalysisReadError as error:
        if not ffmpeg_input.is_local_file:
            # One message for refused, unreachable, silent or non-audio servers alike.
            raise analyze_refused("analyze_cannot_read", source=shown) from error
        raise analyze_refused(
            "analyze_decode_failed", source=shown, error=redact_url(str(error))
        ) from error
    except ModelError as error:
        raise analyze_refused(
            "analyze_invalid_model", model=model_id, reason=error.reason
        ) from error
    finally:
        model.close()
    return {"timeline": timeline}


def _load(model_id: str, user_model_dir: Path) -> MoodModel:
    return load_model(resolve_model(model_id, user_model_dir))
