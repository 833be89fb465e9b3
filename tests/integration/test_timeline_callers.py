"""One timeline, three callers: the live analyser, the ``analyze`` action and ``training/predict``
read a file the same way, on the model's own sample rate, grid, excerpt length, hop and format."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component

from custom_components.music_mood.const import DOMAIN
from custom_components.music_mood.music_mood_core.features import EXTRACTOR_VERSION
from custom_components.music_mood.music_mood_core.stream_loop import MoodReading
from tests import onnx_wire as wire
from training.predict import open_model, predict_file

from .entries import analyser_entry
from .processes import wait_for

# Every number differs from the study's 22050 Hz / 50 ms / 60 frames / 0.5 s.
SAMPLE_RATE = wire.ODD_GRID_SAMPLE_RATE
SEQUENCE_LENGTH = wire.ODD_GRID_SEQUENCE_LENGTH
WINDOW_S = wire.ODD_GRID_WINDOW_S
HOP_S = wire.ODD_GRID_HOP_S
# analyze rounds its numbers to 4 decimals.
ROUNDING = 5e-5
ENGINE_TOLERANCE = 1e-5


def _odd_grid_model(folder: Path, model_format: str) -> Path:
    return wire.write_odd_grid_model(folder, EXTRACTOR_VERSION, model_format)


@pytest.mark.parametrize("model_format", ["1", "2"])
@pytest.mark.parametrize("clip", ["short.wav", "stereo_44k.wav"])
async def test_analyze_and_training_predict_give_the_same_timeline(
    hass: HomeAssistant, media_dir: Path, model_format: str, clip: str
) -> None:
    model_path = _odd_grid_model(Path(hass.config.path("music_mood")), model_format)
    assert await async_setup_component(hass, DOMAIN, {})
    response = await hass.services.async_call(
        DOMAIN,
        "analyze",
        {"source": str(media_dir / clip), "model": f"user/{model_path.name}"},
        blocking=True,
        return_response=True,
    )
    analyzed = response["timeline"]

    model = await hass.async_add_executor_job(open_model, model_path)
    try:
        predicted = await hass.async_add_executor_job(predict_file, media_dir / clip, model)
    finally:
        model.close()

    # The model's hop and excerpt, not the study's: the first 1.6 s excerpt ends at 1.75 s.
    first_s = math.ceil(SEQUENCE_LENGTH * WINDOW_S / HOP_S) * HOP_S
    times = [point["time"] for point in analyzed]
    assert times[:3] == [first_s, first_s + HOP_S, first_s + 2 * HOP_S]
    assert np.allclose(np.diff(times), HOP_S)
    np.testing.assert_allclose(predicted.times_s, times, atol=1e-9)
    for target in ("valence", "arousal"):
        np.testing.assert_allclose(
            getattr(predicted, target),
            [point[target] for point in analyzed],
            rtol=0,
            atol=ROUNDING + ENGINE_TOLERANCE,
        )
    # Real music moves the readings, so equal timelines are not equal constants.
    assert np.ptp(predicted.valence) > 0.01


async def test_the_live_analyser_publishes_the_analyze_timeline(
    hass: HomeAssistant, media_dir: Path, no_ffmpeg_left: None
) -> None:
    """Real ffmpeg with the live arguments (-re, hop-sized output), read hop by hop."""
    model_path = _odd_grid_model(Path(hass.config.path("music_mood")), "2")
    clip = str(media_dir / "short.wav")
    assert await async_setup_component(hass, DOMAIN, {})
    response = await hass.services.async_call(
        DOMAIN,
        "analyze",
        {"source": clip, "model": f"user/{model_path.name}"},
        blocking=True,
        return_response=True,
    )
    analyzed = response["timeline"]

    entry = analyser_entry(clip, model=f"user/{model_path.name}")
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    coordinator = entry.runtime_data.coordinator
    live: dict[int, MoodReading] = {}

    def remember() -> None:
        if coordinator.data is not None:
            live[coordinator.data.end_sample] = coordinator.data

    unsubscribe = coordinator.async_add_listener(remember)
    try:
        # The 6 s clip plays in real time; the guard only keeps a broken loop from hanging.
        await wait_for(lambda: len(live) >= len(analyzed), timeout_s=60.0, what="every hop")
    finally:
        unsubscribe()
        assert await hass.config_entries.async_unload(entry.entry_id)

    readings = [live[end] for end in sorted(live)][: len(analyzed)]
    assert [reading.end_sample / SAMPLE_RATE for reading in readings] == [
        point["time"] for point in analyzed
    ]
    for target in ("valence", "arousal"):
        np.testing.assert_allclose(
            [getattr(reading, f"raw_{target}") for reading in readings],
            [point[target] for point in analyzed],
            rtol=0,
            atol=ROUNDING + ENGINE_TOLERANCE,
        )
