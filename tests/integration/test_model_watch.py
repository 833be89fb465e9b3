"""A running analyser notices its model file removed, broken, replaced or fixed, and a model that
fails while predicting: repair issue and unavailable entities, never a crash loop."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pytest
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from custom_components.music_mood.const import DOMAIN
from custom_components.music_mood.music_mood_core.model import BUNDLED_MODEL_PATH, load_model

from .assets import FIXTURE_MODELS, TEST_MODEL
from .entries import analyser_entry
from .processes import ffmpeg_children, wait_for

VALENCE = "sensor.living_room_valence"
STATUS = "sensor.living_room_analyser_status"


def _available(hass: HomeAssistant) -> bool:
    return hass.states.get(VALENCE).state != STATE_UNAVAILABLE


def _issue(hass: HomeAssistant, entry_id: str) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(DOMAIN, f"model_unusable_{entry_id}")


async def test_model_file_changes_are_noticed_while_running(
    hass: HomeAssistant,
    media_dir: Path,
    fast_restarts: None,
    fast_model_check: float,
    caplog: pytest.LogCaptureFixture,
    no_ffmpeg_left: None,
) -> None:
    model_file = Path(hass.config.path("music_mood")) / "mine.onnx"
    shutil.copy(FIXTURE_MODELS / TEST_MODEL, model_file)
    entry = analyser_entry(str(media_dir / "short.wav"), model="user/mine.onnx", loop_file=True)
    entry.add_to_hass(hass)
    caplog.set_level(logging.INFO, logger="custom_components.music_mood")
    assert await hass.config_entries.async_setup(entry.entry_id)
    coordinator = entry.runtime_data.coordinator
    await wait_for(lambda: _available(hass), what="the first reading")
    first_model = coordinator.model
    assert first_model is not None

    # A good, different model replaces the file: loaded and used without a reload of the entry.
    shutil.copy(BUNDLED_MODEL_PATH, model_file)
    await wait_for(lambda: coordinator.model is not first_model, what="the new model to be loaded")
    readings = coordinator.stats.readings
    await wait_for(
        lambda: coordinator.stats.readings > readings, what="readings from the new model"
    )
    assert _available(hass)
    assert _issue(hass, entry.entry_id) is None
    assert coordinator.model is not None
    assert coordinator.model.info == load_model(model_file).info
    with pytest.raises(RuntimeError, match="closed"):
        first_model.predict(np.zeros((60, 68), dtype=np.float32))
    assert any("reloaded it" in r.getMessage() for r in caplog.records)
    # An unchanged file is left alone: several checks later, same model, same ffmpeg.
    current, pid = coordinator.model, coordinator.stats.ffmpeg_pid
    readings = coordinator.stats.readings
    await wait_for(lambda: coordinator.stats.readings >= readings + 3, what="more readings")
    assert coordinator.model is current
    assert coordinator.stats.ffmpeg_pid == pid

    # Removed: repair issue, unavailable, ffmpeg stopped, one error line.
    model_file.unlink()
    await wait_for(lambda: hass.states.get(STATUS).state == "model_error", what="the model error")
    issue = _issue(hass, entry.entry_id)
    assert issue is not None
    assert issue.translation_placeholders["reason"] == "not_found"
    assert not _available(hass)
    await wait_for(lambda: ffmpeg_children() == [], timeout_s=5.0, what="ffmpeg to stop")

    # Replaced by a broken file: the issue says so.
    shutil.copy(FIXTURE_MODELS / "broken_not_onnx.onnx", model_file)
    await wait_for(
        lambda: _issue(hass, entry.entry_id).translation_placeholders["reason"] == "not_onnx",
        what="the broken file to be reported",
    )
    assert not _available(hass)
    assert ffmpeg_children() == []

    # Fixed: issue cleared, entities back.
    shutil.copy(FIXTURE_MODELS / TEST_MODEL, model_file)
    await wait_for(lambda: _available(hass), what="the fixed model to be used")
    assert _issue(hass, entry.entry_id) is None
    assert hass.states.get(STATUS).state == "running"
    errors = [r for r in caplog.records if "cannot be used" in r.getMessage()]
    assert len(errors) == 1
    assert errors[0].levelno == logging.ERROR
    assert len([r for r in caplog.records if "usable again" in r.getMessage()]) == 1
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_model_failing_to_predict_is_handled_once(
    hass: HomeAssistant,
    media_dir: Path,
    fast_restarts: None,
    caplog: pytest.LogCaptureFixture,
    no_ffmpeg_left: None,
) -> None:
    """A model that raises in predict (here: closed under the pipeline's feet -> RuntimeError)."""
    entry = analyser_entry(str(media_dir / "short.wav"), loop_file=True)
    entry.add_to_hass(hass)
    caplog.set_level(logging.INFO, logger="custom_components.music_mood")
    assert await hass.config_entries.async_setup(entry.entry_id)
    coordinator = entry.runtime_data.coordinator
    await wait_for(lambda: _available(hass), what="the first reading")
    seen: list[tuple[str, bool, str | None]] = []

    def record() -> None:
        issue = _issue(hass, entry.entry_id)
        seen.append(
            (
                coordinator.status.value,
                coordinator.available,
                None if issue is None else issue.translation_placeholders["reason"],
            )
        )

    unsubscribe = coordinator.async_add_listener(record)
    broken = coordinator.model
    assert broken is not None
    broken.close()
    await wait_for(
        lambda: coordinator.model is not broken and _available(hass), what="recovery with a reload"
    )
    unsubscribe()
    assert ("model_error", False, "inference_failed") in seen
    assert _issue(hass, entry.entry_id) is None
    errors = [r for r in caplog.records if "cannot be used" in r.getMessage()]
    assert len(errors) == 1
    assert "RuntimeError" in errors[0].getMessage()
    assert "Traceback" not in caplog.text
    assert await hass.config_entries.async_unload(entry.entry_id)
