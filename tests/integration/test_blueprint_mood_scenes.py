"""The mood -> scene blueprint: valid for the blueprint schema and working in a real automation."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from homeassistant.components.automation.config import AUTOMATION_BLUEPRINT_SCHEMA
from homeassistant.components.blueprint import models
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from homeassistant.util.yaml import load_yaml_dict
from pytest_homeassistant_custom_component.common import async_fire_time_changed, async_mock_service

REPO_ROOT = Path(__file__).resolve().parents[2]
BLUEPRINT = REPO_ROOT / "blueprints" / "automation" / "music_mood" / "mood_scenes.yaml"
MOOD = "sensor.living_room_mood"


def test_blueprint_matches_the_blueprint_schema() -> None:
    blueprint = models.Blueprint(
        load_yaml_dict(str(BLUEPRINT)),
        expected_domain="automation",
        schema=AUTOMATION_BLUEPRINT_SCHEMA,
    )
    assert blueprint.domain == "automation"
    assert set(blueprint.inputs) == {
        "mood_sensor",
        "settle_time",
        "happy_target",
        "tense_target",
        "sad_target",
        "calm_target",
        "no_music_target",
    }


@pytest.fixture
async def automation(hass: HomeAssistant, tmp_path: Path) -> None:
    hass.config.config_dir = str(tmp_path)
    target = Path(hass.config.path("blueprints/automation/music_mood/mood_scenes.yaml"))
    target.parent.mkdir(parents=True)
    shutil.copy(BLUEPRINT, target)
    hass.states.async_set(MOOD, "calm")
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "id": "mood_scenes",
                "alias": "Music mood scenes",
                "use_blueprint": {
                    "path": "music_mood/mood_scenes.yaml",
                    "input": {
                        "mood_sensor": MOOD,
                        "settle_time": 5,
                        "happy_target": {"entity_id": "scene.party"},
                        "sad_target": {"entity_id": ["light.sofa", "scene.rainy_day"]},
                        "no_music_target": {"entity_id": "scene.evening"},
                    },
                },
            }
        },
    )
    await hass.async_block_till_done()
    state = hass.states.get("automation.music_mood_scenes")
    assert state is not None
    assert state.state == "on"


async def _settle(hass: HomeAssistant) -> None:
    await hass.async_block_till_done()  # the state change starts the settle timer
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=6))
    await hass.async_block_till_done()


async def test_each_mood_turns_on_its_scene_after_settling(
    hass: HomeAssistant, automation: None
) -> None:
    turn_on = async_mock_service(hass, "homeassistant", "turn_on")

    hass.states.async_set(MOOD, "happy")
    await hass.async_block_till_done()
    assert turn_on == []  # not settled yet
    await _settle(hass)
    assert [call.data["entity_id"] for call in turn_on] == [["scene.party"]]

    hass.states.async_set(MOOD, "sad")
    await _settle(hass)
    assert sorted(turn_on[-1].data["entity_id"]) == ["light.sofa", "scene.rainy_day"]

    # A mood with nothing chosen does nothing.
    hass.states.async_set(MOOD, "tense")
    await _settle(hass)
    assert len(turn_on) == 2

    # A mood that flickers back before settling does not change the scene.
    hass.states.async_set(MOOD, "happy")
    await hass.async_block_till_done()
    hass.states.async_set(MOOD, "tense")
    await _settle(hass)
    assert len(turn_on) == 2

    hass.states.async_set(MOOD, "none")
    await _settle(hass)
    assert turn_on[-1].data["entity_id"] == ["scene.evening"]

    # The analyser going away is not a mood.
    hass.states.async_set(MOOD, "unavailable")
    await _settle(hass)
    assert len(turn_on) == 3
