"""Nothing a model file or a device supplies ends an analyser's task: it reports (status sensor,
repair issue), retries, and recovers once the input is good again."""

from __future__ import annotations

import shutil
from pathlib import Path

from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from custom_components.music_mood.const import DOMAIN, SOURCE_TYPE_MEDIA_PLAYER
from custom_components.music_mood.music_mood_core.features import EXTRACTOR_VERSION
from tests import onnx_wire as wire

from .assets import FIXTURE_MODELS, TEST_MODEL
from .entries import analyser_entry
from .processes import ffmpeg_children, wait_for

VALENCE = "sensor.living_room_valence"
STATUS = "sensor.living_room_analyser_status"


def _available(hass: HomeAssistant) -> bool:
    state = hass.states.get(VALENCE)
    return state is not None and state.state != STATE_UNAVAILABLE


def _issue_reason(hass: HomeAssistant, entry_id: str) -> str | None:
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"model_unusable_{entry_id}")
    return None if issue is None else issue.translation_placeholders["reason"]


def _issue_says(hass: HomeAssistant, entry_id: str, reason: str, detail: str) -> bool:
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"model_unusable_{entry_id}")
    if issue is None:
        return False
    placeholders = issue.translation_placeholders
    return placeholders["reason"] == reason and detail in placeholders["message"]


def _crafted(**parts: object) -> bytes:
    return wire.mood_model(EXTRACTOR_VERSION, **parts)  # type: ignore[arg-type]


NESTED_JSON = '{"a":' * 40 + "1" + "}" * 40
# Crafted files that used to escape as ValueError, OverflowError or RecursionError and end the task
# with the status stuck at "starting"; each now has its reason.
CRAFTED_SEQUENCE = [
    (
        _crafted(extra_initializers=[wire.tensor("overflow", [2**32, 2**32], raw=b"")]),
        "exceeds_limits",
        "claims",
    ),
    (
        _crafted(metadata=wire.mood_metadata(EXTRACTOR_VERSION, scores="[" * 70_000)),
        "exceeds_limits",
        "longer than",
    ),
    (
        _crafted(metadata=wire.mood_metadata(EXTRACTOR_VERSION, scores=NESTED_JSON)),
        "incompatible_metadata",
        "nests deeper",
    ),
    (
        _crafted(extra_initializers=[wire.tensor("deep", [1] * 65, raw=b"\0\0\0\0")]),
        "exceeds_limits",
        "more than 16 dimensions",
    ),
    (
        _crafted(extra_initializers=[wire.tensor("n", [1], wire.INT32, int32_data=[2**40])]),
        "not_onnx",
        "outside",
    ),
    (
        _crafted(metadata=wire.mood_metadata(EXTRACTOR_VERSION, sequence_length="1000000000")),
        "incompatible_metadata",
        "sequence length 1000000000",
    ),
]


async def test_crafted_model_files_are_reported_and_a_good_file_recovers(
    hass: HomeAssistant,
    media_dir: Path,
    fast_restarts: None,
    fast_model_check: float,
    no_ffmpeg_left: None,
) -> None:
    model_file = Path(hass.config.path("music_mood")) / "mine.onnx"
    model_file.write_bytes(CRAFTED_SEQUENCE[0][0])
    entry = analyser_entry(str(media_dir / "short.wav"), model="user/mine.onnx", loop_file=True)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    coordinator = entry.runtime_data.coordinator

    for data, reason, detail in CRAFTED_SEQUENCE:
        model_file.write_bytes(data)
        await wait_for(
            lambda: _issue_says(hass, entry.entry_id, reason, detail),  # noqa: B023
            what=f"the file refused for {detail!r} to be reported",
        )
        assert hass.states.get(STATUS).state == "model_error"
        assert hass.states.get(STATUS).attributes["detail"].startswith(reason)
        assert coordinator.stream.running
        assert not _available(hass)
        assert ffmpeg_children() == []

    shutil.copy(FIXTURE_MODELS / TEST_MODEL, model_file)
    await wait_for(lambda: _available(hass), what="the good model to be used")
    assert _issue_reason(hass, entry.entry_id) is None
    assert hass.states.get(STATUS).state == "running"
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_an_over_long_media_file_name_is_reported_and_the_analyser_recovers(
    hass: HomeAssistant, media_dir: Path, fast_restarts: None, no_ffmpeg_left: None
) -> None:
    """A player reporting a 300-byte file name: Python 3.13's file checks raise OSError for it."""
    long_name = str(media_dir / ("a" * 300 + ".wav"))
    hass.states.async_set("media_player.kitchen", "playing", {"media_content_id": long_name})
    entry = analyser_entry("media_player.kitchen", source_type=SOURCE_TYPE_MEDIA_PLAYER)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    coordinator = entry.runtime_data.coordinator
    await wait_for(lambda: hass.states.get(STATUS).state == "unsupported_media", what="the refusal")
    assert "is longer than file names may be" in hass.states.get(STATUS).attributes["detail"]
    assert coordinator.stream.running

    hass.states.async_set(
        "media_player.kitchen", "playing", {"media_content_id": str(media_dir / "short.wav")}
    )
    await wait_for(lambda: _available(hass), what="the playable file to be heard")
    assert hass.states.get(STATUS).state == "running"
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_an_over_long_model_id_is_a_model_error_not_a_dead_task(
    hass: HomeAssistant, media_dir: Path, fast_restarts: None, no_ffmpeg_left: None
) -> None:
    entry = analyser_entry(str(media_dir / "short.wav"), model="user/" + "m" * 300 + ".onnx")
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    coordinator = entry.runtime_data.coordinator
    await wait_for(lambda: hass.states.get(STATUS).state == "model_error", what="the model error")
    assert _issue_reason(hass, entry.entry_id) == "not_found"
    assert coordinator.stream.running
    assert await hass.config_entries.async_unload(entry.entry_id)
