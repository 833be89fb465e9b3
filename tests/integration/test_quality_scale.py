"""quality_scale.yaml states every Integration Quality Scale rule, honestly annotated."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from homeassistant.util.yaml import load_yaml_dict

REPO_ROOT = Path(__file__).resolve().parents[2]

QUALITY_SCALE_PATH = REPO_ROOT / "custom_components" / "music_mood" / "quality_scale.yaml"

# Every rule of the scale, by tier, as Home Assistant's developer documentation lists them.
RULES_BY_TIER = {
    "bronze": [
        "action-setup",
        "appropriate-polling",
        "brands",
        "common-modules",
        "config-flow",
        "config-flow-test-coverage",
        "dependency-transparency",
        "docs-actions",
        "docs-conditions",
        "docs-high-level-description",
        "docs-installation-instructions",
        "docs-removal-instructions",
        "docs-triggers",
        "entity-event-setup",
        "entity-unique-id",
        "has-entity-name",
        "runtime-data",
        "test-before-configure",
        "test-before-setup",
        "unique-config-entry",
    ],
    "silver": [
        "action-exceptions",
        "config-entry-unloading",
        "docs-configuration-parameters",
        "docs-installation-parameters",
        "entity-unavailable",
        "integration-owner",
        "log-when-unavailable",
        "parallel-updates",
        "reauthentication-flow",
        "test-coverage",
    ],
    "gold": [
        "devices",
        "diagnostics",
        "discovery",
        "discovery-update-info",
        "docs-data-update",
        "docs-examples",
        "docs-known-limitations",
        "docs-supported-devices",
        "docs-supported-functions",
        "docs-troubleshooting",
        "docs-use-cases",
        "dynamic-devices",
        "entity-category",
        "entity-device-class",
        "entity-disabled-by-default",
        "entity-translations",
        "exception-translations",
        "icon-translations",
        "reconfiguration-flow",
        "repair-issues",
        "stale-devices",
    ],
    "platinum": ["async-dependency", "inject-websession", "strict-typing"],
}
ALL_RULES = [rule for rules in RULES_BY_TIER.values() for rule in rules]


def _rules() -> dict[str, Any]:
    # The loader hassfest itself reads quality_scale.yaml with.
    data = load_yaml_dict(QUALITY_SCALE_PATH)
    assert set(data) == {"rules"}
    rules: dict[str, Any] = data["rules"]
    return rules


def test_every_rule_is_listed_and_nothing_else() -> None:
    rules = _rules()

    assert sorted(set(ALL_RULES) - set(rules)) == []
    assert sorted(set(rules) - set(ALL_RULES)) == []


@pytest.mark.parametrize("rule", ALL_RULES)
def test_rule_has_a_valid_status_and_todo_or_exempt_say_why(rule: str) -> None:
    value = _rules()[rule]

    if isinstance(value, str):
        # A bare status needs no explanation only when the rule is met.
        assert value == "done"
        return
    assert set(value) == {"status", "comment"}
    assert value["status"] in {"done", "todo", "exempt"}
    assert isinstance(value["comment"], str)
    assert len(value["comment"].strip()) >= 10
