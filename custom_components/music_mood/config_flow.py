"""Config, reconfigure and options flows.

An analyser is set up in two steps: what it is (name, kind of source, model), then the source
itself, which is tested (ffmpeg must open it and deliver audio) before the entry is created. Serial
strips come from config_flow_serial's mixin.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import voluptuous as vol
from homeassistant.components.ffmpeg import get_ffmpeg_manager
from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.const import CONF_NAME
from homeassistant.core import callback
from homeassistant.helpers.selector import (
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
)

from .audio_source import (
    REASON_ENTITY_NOT_FOUND,
    AudioSource,
    SourceError,
    async_probe,
)
from .config_flow_serial import (
    MoodLightingOptionsMixin,
    SerialStripConfigFlowMixin,
    SerialStripOptionsFlow,
)
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
    ENTRY_KIND_ANALYSER,
    ENTRY_KIND_SERIAL_STRIP,
    SOURCE_PROBE_TIMEOUT_S,
    SOURCE_TYPE_CAMERA,
    SOURCE_TYPE_FFMPEG,
    SOURCE_TYPE_MEDIA_PLAYER,
    USER_MODEL_DIR,
)
from .flow_helpers import number_box, option_fields, options_form_step, required_key
from .music_mood_core.audio import redact_url
from .music_mood_core.model import (
    DEFAULT_MODEL_ID,
    ModelChoice,
    ModelError,
    discover_models,
    load_model,
    resolve_model,
)
from .music_mood_core.mood import DEFAULT_DEAD_BAND, DEFAULT_DWELL_S
from .source_identity import source_unique_id

SOURCE_TYPES = [SOURCE_TYPE_FFMPEG, SOURCE_TYPE_CAMERA, SOURCE_TYPE_MEDIA_PLAYER]
DEFAULT_NAME = "Music mood"


def _source_selector(source_type: str) -> Any:
    if source_type == SOURCE_TYPE_CAMERA:
        return EntitySelector(EntitySelectorConfig(domain="camera"))
    if source_type == SOURCE_TYPE_MEDIA_PLAYER:
        return EntitySelector(EntitySelectorConfig(domain="media_player"))
    return TextSelector()


def _kind_schema(
    choices: list[ModelChoice], defaults: dict[str, Any], *, with_name: bool
) -> vol.Schema:
    fields: dict[Any, Any] = {}
    if with_name:
        fields[vol.Required(CONF_NAME, default=defaults.get(CONF_NAME, DEFAULT_NAME))] = str
    fields[
        vol.Required(CONF_SOURCE_TYPE, default=defaults.get(CONF_SOURCE_TYPE, SOURCE_TYPE_FFMPEG))
    ] = SelectSelector(
        SelectSelectorConfig(
            options=SOURCE_TYPES, translation_key="source_type", mode=SelectSelectorMode.LIST
        )
    )
    model_ids = [choice.model_id for choice in choices]
    default_model = defaults.get(CONF_MODEL)
    if default_model not in model_ids:
        default_model = DEFAULT_MODEL_ID if DEFAULT_MODEL_ID in model_ids else model_ids[0]
    fields[vol.Required(CONF_MODEL, default=default_model)] = SelectSelector(
        SelectSelectorConfig(
            options=[SelectOptionDict(value=c.model_id, label=c.label) for c in choices],
            mode=SelectSelectorMode.DROPDOWN,
        )
    )
    return vol.Schema(fields)


class MusicMoodConfigFlow(SerialStripConfigFlowMixin, ConfigFlow, domain=DOMAIN):
    """Adds analysers (and, through the mixin, serial LED strips)."""

    VERSION = 1
    MINOR_VERSION = 1

    def __init__(self) -> None:
        self._analyser: dict[str, Any] = {}
        self._sample_rate = 22050

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> OptionsFlow:
        if config_entry.data.get(CONF_ENTRY_KIND) == ENTRY_KIND_SERIAL_STRIP:
            return SerialStripOptionsFlow()
        return MusicMoodOptionsFlow()

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        return self.async_show_menu(step_id="user", menu_options=["analyser", "serial_strip"])

    # ------------------------------------------------------------------ analyser

    async def async_step_analyser(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        return await self._async_kind_step(
            "analyser", user_input, {}, with_name=True, next_step=self.async_step_source
        )

    async def async_step_source(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        source_type = self._analyser[CONF_SOURCE_TYPE]
        errors: dict[str, str] = {}
        placeholders = {"detail": ""}
        if user_input is not None:
            source = user_input[CONF_SOURCE].strip()
            await self.async_set_unique_id(source_unique_id(source_type, source))
            self._abort_if_unique_id_configured()
            if await self._async_test_source(source_type, source, errors, placeholders):
                return self.async_create_entry(
                    title=self._analyser[CONF_NAME],
                    data={
                        CONF_ENTRY_KIND: ENTRY_KIND_ANALYSER,
                        CONF_SOURCE_TYPE: source_type,
                        CONF_SOURCE: source,
                        CONF_MODEL: self._analyser[CONF_MODEL],
                    },
                    options={
                        CONF_SMOOTHING_S: DEFAULT_SMOOTHING_S,
                        CONF_SILENCE_THRESHOLD_DB: DEFAULT_SILENCE_THRESHOLD_DB,
                        CONF_SILENCE_DURATION_S: DEFAULT_SILENCE_DURATION_S,
                        CONF_LOOP_FILE: DEFAULT_LOOP_FILE,
                    },
                )
        return self.async_show_form(
            step_id="source",
            data_schema=self._source_schema(source_type, user_input),
            errors=errors,
            description_placeholders=placeholders,
        )

    # ------------------------------------------------------------------ reconfigure

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        entry = self._get_reconfigure_entry()
        if entry.data.get(CONF_ENTRY_KIND) == ENTRY_KIND_SERIAL_STRIP:
            return await self.async_step_reconfigure_serial_strip(user_input)
        return await self._async_kind_step(
            "reconfigure",
            user_input,
            dict(entry.data),
            with_name=False,
            next_step=self.async_step_reconfigure_source,
        )

    async def async_step_reconfigure_source(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        entry = self._get_reconfigure_entry()
        source_type = self._analyser[CONF_SOURCE_TYPE]
        errors: dict[str, str] = {}
        placeholders = {"detail": ""}
        if user_input is not None:
            source = user_input[CONF_SOURCE].strip()
            unique_id = source_unique_id(source_type, source)
            if self._unique_id_taken(unique_id, entry.entry_id):
                return self.async_abort(reason="already_configured")
            if await self._async_test_source(source_type, source, errors, placeholders):
                return self.async_update_reload_and_abort(
                    entry,
                    unique_id=unique_id,
                    data_updates={
                        CONF_SOURCE_TYPE: source_type,
                        CONF_SOURCE: source,
                        CONF_MODEL: self._analyser[CONF_MODEL],
                    },
                )
        default = user_input or (
            {CONF_SOURCE: entry.data[CONF_SOURCE]}
            if entry.data.get(CONF_SOURCE_TYPE) == source_type
            else None
        )
        return self.async_show_form(
            step_id="reconfigure_source",
            data_schema=self._source_schema(source_type, default),
            errors=errors,
            description_placeholders=placeholders,
        )

    # ------------------------------------------------------------------ shared steps and checks

    async def _async_kind_step(
        self,
        step_id: str,
        user_input: dict[str, Any] | None,
        defaults: dict[str, Any],
        *,
        with_name: bool,
        next_step: Callable[[], Awaitable[ConfigFlowResult]],
    ) -> ConfigFlowResult:
        """What the analyser is (name, kind of source, model); the model must load."""
        choices = await self._async_model_choices()
        if not choices:
            return self.async_abort(reason="no_models")
        errors: dict[str, str] = {}
        placeholders = {"reason": ""}
        if user_input is not None and await self._async_check_model(
            user_input[CONF_MODEL], errors, placeholders
        ):
            self._analyser = dict(user_input)
            return await next_step()
        return self.async_show_form(
            step_id=step_id,
            data_schema=_kind_schema(choices, user_input or defaults, with_name=with_name),
            errors=errors,
            description_placeholders=placeholders,
        )

    def _source_schema(self, source_type: str, defaults: dict[str, Any] | None) -> vol.Schema:
        default = (defaults or {}).get(CONF_SOURCE)
        return vol.Schema({required_key(CONF_SOURCE, default): _source_selector(source_type)})

    async def _async_model_choices(self) -> list[ModelChoice]:
        return await self.hass.async_add_executor_job(
            discover_models, Path(self.hass.config.path(USER_MODEL_DIR))
        )

    async def _async_check_model(
        self, model_id: str, errors: dict[str, str], placeholders: dict[str, str]
    ) -> bool:
        user_dir = Path(self.hass.config.path(USER_MODEL_DIR))

        def load() -> int:
            model = load_model(resolve_model(model_id, user_dir))
            model.close()
            return int(model.info.sample_rate)

        try:
            self._sample_rate = await self.hass.async_add_executor_job(load)
        except ModelError as error:
            errors[CONF_MODEL] = "invalid_model"
            placeholders["reason"] = error.reason
            return False
        return True

    async def _async_test_source(
        self, source_type: str, source: str, errors: dict[str, str], placeholders: dict[str, str]
    ) -> bool:
        """Test before configure: ffmpeg must deliver audio (media players: only if playing now)."""
        audio_source = AudioSource(self.hass, source_type, source)
        try:
            if source_type == SOURCE_TYPE_MEDIA_PLAYER:
                if self.hass.states.get(source) is None:
                    raise SourceError(REASON_ENTITY_NOT_FOUND, source)
                # What a player plays changes all the time; the pipeline follows and says when it
                # can't.
                return True
            ffmpeg_input = await audio_source.async_resolve()
            await async_probe(
                ffmpeg_input,
                get_ffmpeg_manager(self.hass).binary,
                self._sample_rate,
                SOURCE_PROBE_TIMEOUT_S,
            )
        except SourceError as error:
            errors[CONF_SOURCE] = error.reason
            placeholders["detail"] = redact_url(error.detail)
            return False
        return True


class MusicMoodOptionsFlow(MoodLightingOptionsMixin, OptionsFlow):
    """Pipeline settings (and, through the mixin, mood lighting) of an analyser."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        return self.async_show_menu(step_id="init", menu_options=["pipeline", "mood_lighting"])

    async def async_step_pipeline(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        return options_form_step(self, "pipeline", user_input, _pipeline_schema)


def _pipeline_schema(options: Mapping[str, Any]) -> vol.Schema:
    return vol.Schema(
        option_fields(
            options,
            [
                (CONF_SMOOTHING_S, DEFAULT_SMOOTHING_S, number_box(0, 60, 0.5, "s")),
                (
                    CONF_SILENCE_THRESHOLD_DB,
                    DEFAULT_SILENCE_THRESHOLD_DB,
                    number_box(-100, 0, 1, "dBFS"),
                ),
                (CONF_SILENCE_DURATION_S, DEFAULT_SILENCE_DURATION_S, number_box(0, 300, 0.5, "s")),
                (CONF_MOOD_DEAD_BAND, DEFAULT_DEAD_BAND, number_box(0, 0.5, 0.01)),
                (CONF_MOOD_DWELL_S, DEFAULT_DWELL_S, number_box(0, 30, 0.5, "s")),
                (CONF_LOOP_FILE, DEFAULT_LOOP_FILE, BooleanSelector()),
            ],
        )
    )
