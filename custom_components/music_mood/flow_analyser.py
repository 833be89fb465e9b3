"""Config and reconfigure steps of an analyser.

An analyser is set up in two steps: what it is (name, type of source, model; the model must load),
then the source itself, tested as its row in flow_sources says before the entry is created.
Reconfigure goes through the same two steps without the name.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, Final

import voluptuous as vol
from homeassistant.config_entries import ConfigFlow, ConfigFlowResult
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant
from homeassistant.helpers.selector import (
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)

from .audio_source import SourceError
from .const import (
    CONF_ENTRY_KIND,
    CONF_LOOP_FILE,
    CONF_MODEL,
    CONF_SILENCE_DURATION_S,
    CONF_SILENCE_THRESHOLD_DB,
    CONF_SMOOTHING_S,
    CONF_SOURCE,
    CONF_SOURCE_TYPE,
    DEFAULT_LOOP_FILE,
    DEFAULT_SILENCE_DURATION_S,
    DEFAULT_SILENCE_THRESHOLD_DB,
    DEFAULT_SMOOTHING_S,
    ENTRY_KIND_ANALYSER,
    SOURCE_TYPE_FFMPEG,
    USER_MODEL_DIR,
)
from .flow_helpers import abort_if_unique_id_taken
from .flow_sources import SOURCE_TYPE_FLOWS, SourceCheck
from .music_mood_core.audio import redact_url
from .music_mood_core.model import (
    DEFAULT_MODEL_ID,
    ModelChoice,
    ModelError,
    discover_models,
    load_model,
    resolve_model,
)
from .source_identity import source_unique_id

DEFAULT_NAME: Final = "Music mood"
NEW_ANALYSER_OPTIONS: Final[Mapping[str, Any]] = {
    CONF_SMOOTHING_S: DEFAULT_SMOOTHING_S,
    CONF_SILENCE_THRESHOLD_DB: DEFAULT_SILENCE_THRESHOLD_DB,
    CONF_SILENCE_DURATION_S: DEFAULT_SILENCE_DURATION_S,
    CONF_LOOP_FILE: DEFAULT_LOOP_FILE,
}


def _user_model_dir(hass: HomeAssistant) -> Path:
    return Path(hass.config.path(USER_MODEL_DIR))


async def async_model_sample_rate(hass: HomeAssistant, model_id: str) -> int:
    """The sample rate the model wants; ModelError when it cannot be loaded."""
    user_dir = _user_model_dir(hass)

    def load() -> int:
        model = load_model(resolve_model(model_id, user_dir))
        model.close()
        return int(model.info.sample_rate)

    return await hass.async_add_executor_job(load)


def _kind_schema(
    choices: list[ModelChoice], defaults: Mapping[str, Any], *, with_name: bool
) -> vol.Schema:
    fields: dict[Any, Any] = {}
    if with_name:
        fields[vol.Required(CONF_NAME, default=defaults.get(CONF_NAME, DEFAULT_NAME))] = str
    fields[
        vol.Required(CONF_SOURCE_TYPE, default=defaults.get(CONF_SOURCE_TYPE, SOURCE_TYPE_FFMPEG))
    ] = SelectSelector(
        SelectSelectorConfig(
            options=list(SOURCE_TYPE_FLOWS),
            translation_key="source_type",
            mode=SelectSelectorMode.LIST,
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


class AnalyserConfigFlowMixin(ConfigFlow):
    """The ``analyser`` and ``source`` steps, and an analyser's reconfigure steps."""

    def __init__(self) -> None:
        super().__init__()
        # What the first step chose (name, source type, model) and the model's sample rate.
        self._analyser: dict[str, Any] = {}
        self._sample_rate = 0

    async def async_step_analyser(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        return await self._async_kind_step(
            "analyser", user_input, {}, with_name=True, next_step=self.async_step_source
        )

    async def async_step_source(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        placeholders = {"detail": ""}
        if user_input is not None:
            await self.async_set_unique_id(self._source_unique_id(user_input))
            self._abort_if_unique_id_configured()
            try:
                source_data = await self._async_validate_source(user_input)
            except SourceError as error:
                errors[CONF_SOURCE] = error.reason
                placeholders["detail"] = redact_url(error.detail)
            else:
                return self.async_create_entry(
                    title=self._analyser[CONF_NAME],
                    data={
                        CONF_ENTRY_KIND: ENTRY_KIND_ANALYSER,
                        CONF_SOURCE_TYPE: self._analyser[CONF_SOURCE_TYPE],
                        **source_data,
                        CONF_MODEL: self._analyser[CONF_MODEL],
                    },
                    options=dict(NEW_ANALYSER_OPTIONS),
                )
        return self._source_form("source", user_input or {}, errors, placeholders)

    async def async_reconfigure_analyser(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The ``reconfigure`` step of an analyser entry: its source type and model."""
        return await self._async_kind_step(
            "reconfigure",
            user_input,
            self._get_reconfigure_entry().data,
            with_name=False,
            next_step=self.async_step_reconfigure_source,
        )

    async def async_step_reconfigure_source(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        placeholders = {"detail": ""}
        if user_input is not None:
            unique_id = self._source_unique_id(user_input)
            abort_if_unique_id_taken(
                self, unique_id, reason="already_configured", except_entry_id=entry.entry_id
            )
            try:
                source_data = await self._async_validate_source(user_input)
            except SourceError as error:
                errors[CONF_SOURCE] = error.reason
                placeholders["detail"] = redact_url(error.detail)
            else:
                return self.async_update_reload_and_abort(
                    entry,
                    unique_id=unique_id,
                    data_updates={
                        CONF_SOURCE_TYPE: self._analyser[CONF_SOURCE_TYPE],
                        **source_data,
                        CONF_MODEL: self._analyser[CONF_MODEL],
                    },
                )
        # The entry's own source is offered again only while the source type stays the same.
        same_type = entry.data.get(CONF_SOURCE_TYPE) == self._analyser[CONF_SOURCE_TYPE]
        defaults = user_input or (entry.data if same_type else {})
        return self._source_form("reconfigure_source", defaults, errors, placeholders)

    async def _async_kind_step(
        self,
        step_id: str,
        user_input: dict[str, Any] | None,
        defaults: Mapping[str, Any],
        *,
        with_name: bool,
        next_step: Callable[[], Awaitable[ConfigFlowResult]],
    ) -> ConfigFlowResult:
        """What the analyser is (name, type of source, model); the model must load."""
        choices = await self.hass.async_add_executor_job(
            discover_models, _user_model_dir(self.hass)
        )
        if not choices:
            return self.async_abort(reason="no_models")
        errors: dict[str, str] = {}
        placeholders = {"reason": ""}
        if user_input is not None:
            try:
                self._sample_rate = await async_model_sample_rate(self.hass, user_input[CONF_MODEL])
            except ModelError as error:
                errors[CONF_MODEL] = "invalid_model"
                placeholders["reason"] = error.reason
            else:
                self._analyser = dict(user_input)
                return await next_step()
        return self.async_show_form(
            step_id=step_id,
            data_schema=_kind_schema(choices, user_input or defaults, with_name=with_name),
            errors=errors,
            description_placeholders=placeholders,
        )

    def _source_unique_id(self, user_input: Mapping[str, Any]) -> str:
        return source_unique_id(
            self._analyser[CONF_SOURCE_TYPE], str(user_input[CONF_SOURCE]).strip()
        )

    async def _async_validate_source(self, user_input: Mapping[str, Any]) -> dict[str, Any]:
        source_type = self._analyser[CONF_SOURCE_TYPE]
        check = SourceCheck(self.hass, source_type, user_input, self._sample_rate)
        return await SOURCE_TYPE_FLOWS[source_type].validate(check)

    def _source_form(
        self,
        step_id: str,
        defaults: Mapping[str, Any],
        errors: dict[str, str],
        placeholders: dict[str, str],
    ) -> ConfigFlowResult:
        fields = SOURCE_TYPE_FLOWS[self._analyser[CONF_SOURCE_TYPE]].fields(defaults)
        return self.async_show_form(
            step_id=step_id,
            data_schema=vol.Schema(fields),
            errors=errors,
            description_placeholders=placeholders,
        )
