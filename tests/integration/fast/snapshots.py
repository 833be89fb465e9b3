"""Snapshots that read the same on every supported Home Assistant and syrupy version.

Home Assistant's own ``snapshot_platform`` serialises whole registry entries, whose fields change
from release to release; these helpers keep what the integration decides (ids, translation keys,
classes, categories, states and attributes) as plain data, so one .ambr file holds for all.
Values that measure time or depend on which ONNX engine is installed are checked here and replaced
by a placeholder, so snapshots never assert a time.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er

MEASURED = "<measured>"
ENGINE = "<engine of this environment>"
Check = Callable[[Any], str]


def installed_engine() -> str:
    """The engine the model reports: onnxruntime where importable (and not hidden), else numpy."""
    try:
        found = importlib.util.find_spec("onnxruntime") is not None
    except ModuleNotFoundError:  # hidden by MUSIC_MOOD_HIDE_ONNXRUNTIME=1
        found = False
    return "onnxruntime" if found else "numpy"


def measured(value: Any) -> str:
    """A duration or clock reading: present and not negative, never compared."""
    assert isinstance(value, int | float), value
    assert value >= 0, value
    return MEASURED


def engine(value: Any) -> str:
    assert value == installed_engine(), value
    return ENGINE


def plain(value: Any, paths: Mapping[str, str] | None = None) -> Any:
    """Enums as their values, tuples as lists, mappings sorted: what JSON would show.

    ``paths`` maps run-specific text (a test's tmp_path) to a stable placeholder.
    """
    paths = paths or {}
    if isinstance(value, Enum):
        return plain(value.value, paths)
    if isinstance(value, Mapping):
        return {str(key): plain(value[key], paths) for key in sorted(value, key=str)}
    if isinstance(value, list | tuple | set | frozenset):
        items = [plain(item, paths) for item in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    if isinstance(value, str):
        for text, placeholder in paths.items():
            value = value.replace(text, placeholder)
    return value


def entities_of_entry(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    entry_id: str,
    *,
    volatile: Mapping[str, Check] | None = None,
    paths: Mapping[str, str] | None = None,
    domain: str | None = None,
) -> dict[str, dict[str, Any]]:
    """Every entity of a config entry: its registry entry and its state, as plain data.

    ``volatile`` maps an entity id to a check that validates its state and returns a placeholder;
    ``paths`` as for `plain`; ``domain`` keeps only that platform's entities.
    """
    volatile = volatile or {}
    snapshot: dict[str, dict[str, Any]] = {}
    entries = [
        entry
        for entry in er.async_entries_for_config_entry(entity_registry, entry_id)
        if domain is None or entry.domain == domain
    ]
    assert entries, "the entry has no entities"
    for entry in sorted(entries, key=lambda item: item.entity_id):
        state = hass.states.get(entry.entity_id)
        assert state is not None, f"no state for {entry.entity_id} (disabled?)"
        value = state.state
        if entry.entity_id in volatile:
            value = volatile[entry.entity_id](state.state)
        snapshot[entry.entity_id] = {
            "registry": plain(
                {
                    "unique_id": entry.unique_id,
                    "translation_key": entry.translation_key,
                    "original_device_class": entry.original_device_class,
                    "entity_category": entry.entity_category,
                    "unit_of_measurement": entry.unit_of_measurement,
                    "has_entity_name": entry.has_entity_name,
                    "capabilities": entry.capabilities,
                }
            ),
            "state": value,
            "attributes": plain(dict(state.attributes), paths),
        }
    return snapshot


def devices_of_entry(device_registry: dr.DeviceRegistry, entry_id: str) -> list[dict[str, Any]]:
    """The entry's devices as plain data (what the integration says about them)."""
    return [
        plain(
            {
                "identifiers": device.identifiers,
                "name": device.name,
                "manufacturer": device.manufacturer,
                "model": device.model,
                "entry_type": device.entry_type,
                "via_device": device.via_device_id is not None,
            }
        )
        for device in dr.async_entries_for_config_entry(device_registry, entry_id)
    ]
