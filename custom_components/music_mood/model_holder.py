"""An analyser's model file: loaded when needed, watched for changes, problems as a repair issue.

A cheap periodic look at the file's stat notices a model removed, broken or replaced while the
analyser runs; the stream loop is then asked to restart, and its next attempt loads the file again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_track_time_interval

from .const import DOMAIN, ISSUE_MODEL_UNUSABLE
from .music_mood_core.model import ModelError, MoodModel, load_model, resolve_model
from .music_mood_core.stream_loop import REASON_INFERENCE_FAILED

_LOGGER = logging.getLogger(__name__)

# (st_mtime_ns, st_size) of a model file; None when it does not exist.
_FileKey = tuple[int, int] | None


def model_issue_id(entry_id: str) -> str:
    return f"{ISSUE_MODEL_UNUSABLE}_{entry_id}"


class ModelHolder:
    """Implements the stream loop's `ModelProvider` for one analyser entry."""

    def __init__(
        self, hass: HomeAssistant, *, entry_id: str, name: str, model_id: str, user_model_dir: Path
    ) -> None:
        self._hass = hass
        self._name = name
        self.model_id = model_id
        self._user_model_dir = user_model_dir
        self.issue_id = model_issue_id(entry_id)
        self.model: MoodModel | None = None
        self.path: Path | None = None
        # The file as it was when last loaded (successfully or not), and as last seen: they differ
        # once the file changed and the model has not been loaded again yet.
        self._loaded_key: _FileKey = None
        self._seen_key: _FileKey = None
        # The reason of the repair issue this holder raised, None when there is none.
        self._issue_reason: str | None = None
        # Loading and looking at the file never overlap.
        self._lock = asyncio.Lock()
        self._cancel_watch: CALLBACK_TYPE | None = None

    @callback
    def async_watch(self, interval_s: float, on_change: Callable[[], None]) -> None:
        """Look at the file every ``interval_s``; call ``on_change`` when it changed."""

        async def _async_check(_now: Any) -> None:
            if self._lock.locked():
                return
            async with self._lock:
                key = await self._hass.async_add_executor_job(self._read_key)
            if key == self._seen_key:
                return
            _LOGGER.debug("%s: model file %s changed", self._name, self.model_id)
            self._seen_key = key
            on_change()

        self._cancel_watch = async_track_time_interval(
            self._hass,
            _async_check,
            timedelta(seconds=interval_s),
            name=f"{DOMAIN} model check {self._name}",
            cancel_on_shutdown=True,
        )

    @callback
    def async_stop_watching(self) -> None:
        if self._cancel_watch is not None:
            self._cancel_watch()
            self._cancel_watch = None

    async def async_model(self) -> MoodModel:
        """The model, (re)loaded if none is loaded or the file changed; ModelError if unusable."""
        if self.model is not None and self._seen_key == self._loaded_key:
            return self.model
        async with self._lock:
            try:
                model = await self._async_load()
            except ModelError as error:
                self._drop()
                self._report(error.reason, error.message)
                raise
            except Exception as error:  # still the model's problem: report it, never end the task
                _LOGGER.debug(
                    "%s: loading the model failed unexpectedly", self._name, exc_info=True
                )
                self._drop()
                message = f"{type(error).__name__}: {error}"
                self._report("unreadable", message)
                raise ModelError("unreadable", message) from error
        self._replace(model)
        return model

    @callback
    def report_failure(self, message: str) -> None:
        self._drop()
        self._report(REASON_INFERENCE_FAILED, message)

    @callback
    def confirm_working(self) -> None:
        if self._issue_reason is not None:
            self._issue_reason = None
            ir.async_delete_issue(self._hass, DOMAIN, self.issue_id)

    async def _async_load(self) -> MoodModel:
        self._loaded_key = self._seen_key = await self._hass.async_add_executor_job(self._read_key)
        self.path, model = await self._hass.async_add_executor_job(self._load)
        return model

    def _replace(self, model: MoodModel) -> None:
        old, self.model = self.model, model
        if old is not None:
            # Safe: the stream that used it has ended; no prediction is in flight.
            old.close()
            _LOGGER.info("%s: model %s changed on disk; reloaded it", self._name, self.model_id)
        # A model that failed to predict keeps its issue until a reading succeeds.
        if self._issue_reason not in (None, REASON_INFERENCE_FAILED):
            _LOGGER.info("%s: model %s is usable again", self._name, self.model_id)
            self.confirm_working()

    def _load(self) -> tuple[Path, MoodModel]:
        path = resolve_model(self.model_id, self._user_model_dir)
        return path, load_model(path)

    def _read_key(self) -> _FileKey:
        """Blocking (stat): what identifies the model file's content cheaply."""
        try:
            stat = resolve_model(self.model_id, self._user_model_dir).stat()
        except (ModelError, OSError):
            return None
        return (stat.st_mtime_ns, stat.st_size)

    def _drop(self) -> None:
        model, self.model = self.model, None
        if model is not None:
            model.close()

    def _report(self, reason: str, message: str) -> None:
        if self._issue_reason is None:
            _LOGGER.error("%s: model %s cannot be used: %s", self._name, self.model_id, message)
        self._issue_reason = reason
        ir.async_create_issue(
            self._hass,
            DOMAIN,
            self.issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=ISSUE_MODEL_UNUSABLE,
            translation_placeholders={
                "name": self._name,
                "model": self.model_id,
                "reason": reason,
                "message": message,
            },
        )
