"""Diagnostics never show credentials; analyze returns the offline path's numbers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)

from custom_components.music_mood.const import DOMAIN
from custom_components.music_mood.music_mood_core.audio import decode_file
from custom_components.music_mood.music_mood_core.features import (
    FrameGrid,
    excerpt_features,
    frame_levels_dbfs,
)
from custom_components.music_mood.music_mood_core.model import BUNDLED_MODEL_PATH, load_model

from .assets import TEST_MODEL, TEST_MODEL_ID
from .entries import analyser_entry
from .processes import wait_for


async def test_diagnostics_redact_credentials(
    hass: HomeAssistant, hass_client, media_dir: Path, stream_server, no_ffmpeg_left: None
) -> None:
    server = stream_server(media_dir / "short.wav", pace=True, loop=True)
    source = server.url.replace("http://", "http://dj:hunter2@") + "?token=abc123secret"
    entry = analyser_entry(source)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    coordinator = entry.runtime_data.coordinator
    await wait_for(lambda: coordinator.data is not None, what="the first reading")

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    text = repr(diagnostics)
    assert "hunter2" not in text
    assert "abc123secret" not in text
    assert diagnostics["pipeline"]["status"] == "running"
    assert diagnostics["pipeline"]["source"].startswith("http://***:***@127.0.0.1")
    assert diagnostics["model"]["id"] == TEST_MODEL_ID
    assert diagnostics["pipeline"]["reading"]["mood"] in {"happy", "tense", "sad", "calm", "none"}
    assert diagnostics["pipeline"]["stats"]["readings"] >= 1
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_analyze_returns_the_offline_timeline(hass: HomeAssistant, media_dir: Path) -> None:
    assert await async_setup_component(hass, DOMAIN, {})
    clip = media_dir / "short.wav"
    response = await hass.services.async_call(
        DOMAIN,
        "analyze",
        {"source": str(clip), "model": TEST_MODEL_ID},
        blocking=True,
        return_response=True,
    )
    timeline = response["timeline"]
    # 6 s of audio: one point per 0.5 s hop from the first full 3 s excerpt on.
    assert [point["time"] for point in timeline] == [3.0, 3.5, 4.0, 4.5, 5.0, 5.5, 6.0]

    model = load_model(Path(hass.config.path("music_mood")) / TEST_MODEL)
    info = model.info
    grid = FrameGrid.from_seconds(info.sample_rate, info.window_s, info.step_s)
    samples = decode_file(clip, info.sample_rate)
    length = grid.excerpt_samples(info.sequence_length)
    ends = [round(point["time"] * info.sample_rate) for point in timeline]
    expected = model.predict(
        np.stack([excerpt_features(samples[e - length : e], grid) for e in ends])
    )
    actual = np.array([[point["valence"], point["arousal"]] for point in timeline])
    np.testing.assert_allclose(actual, expected, atol=1e-4)


async def test_analyze_uses_the_bundled_model_by_default(
    hass: HomeAssistant, media_dir: Path
) -> None:
    if not BUNDLED_MODEL_PATH.is_file():
        pytest.skip("the bundled model is not built yet")
    assert await async_setup_component(hass, DOMAIN, {})
    response = await hass.services.async_call(
        DOMAIN,
        "analyze",
        {"source": str(media_dir / "short.wav")},
        blocking=True,
        return_response=True,
    )
    bundled = load_model(BUNDLED_MODEL_PATH)
    timeline = response["timeline"]
    assert len(timeline) == 7
    samples = decode_file(media_dir / "short.wav", bundled.info.sample_rate)
    grid = FrameGrid.from_seconds(
        bundled.info.sample_rate, bundled.info.window_s, bundled.info.step_s
    )
    length = grid.excerpt_samples(bundled.info.sequence_length)
    end = round(timeline[-1]["time"] * bundled.info.sample_rate)
    excerpt = samples[end - length : end]
    # The bundled model may be format 2: it also reads the excerpt's raw frame levels.
    expected = bundled.predict(excerpt_features(excerpt, grid), frame_levels_dbfs(excerpt, grid))[0]
    assert timeline[-1]["valence"] == pytest.approx(float(expected[0]), abs=1e-4)
    assert timeline[-1]["arousal"] == pytest.approx(float(expected[1]), abs=1e-4)


@pytest.mark.parametrize(
    ("data", "translation_key"),
    [
        ({"source": "-i x"}, "analyze_invalid_source"),
        ({"source": "pulse:default"}, "analyze_unsupported_source"),
        ({"source": "/etc/passwd"}, "analyze_path_not_allowed"),
        ({"source": "MEDIA/missing.wav"}, "analyze_file_not_found"),
        ({"source": "MEDIA/short.wav", "model": "user/nope.onnx"}, "analyze_invalid_model"),
        ({"source": "MEDIA/short.wav", "config_entry_id": "nope"}, "unknown_analyser"),
    ],
)
async def test_analyze_rejects_bad_input(
    hass: HomeAssistant, media_dir: Path, data: dict[str, str], translation_key: str
) -> None:
    assert await async_setup_component(hass, DOMAIN, {})
    data = {key: value.replace("MEDIA", str(media_dir)) for key, value in data.items()}
    with pytest.raises(ServiceValidationError) as raised:
        await hass.services.async_call(DOMAIN, "analyze", data, blocking=True, return_response=True)
    assert raised.value.translation_key == translation_key
    assert raised.value.translation_domain == DOMAIN
