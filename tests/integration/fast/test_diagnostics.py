"""Diagnostics of an analyser that has heard generated audio, and of a serial strip."""

from __future__ import annotations

from typing import Any

# The diagnostics download includes system info, which imports the Supervisor client; its models
# build date-handling code when first imported, and that fails under the set-up fixtures' frozen
# clock. Imported here, before any clock is frozen.
import homeassistant.components.hassio  # noqa: F401
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion

from .pcm import GeneratedPcmSource, chord
from .snapshots import engine, measured, plain

# Timings the stream loop measures (wall time): checked, never compared.
MEASURED_STATS = ("inference_ms", "delivery_ms", "last_read_at")
ENGINE_DECIMALS = 4


def _stable(diagnostics: dict[str, Any], paths: dict[str, str]) -> dict[str, Any]:
    stats = diagnostics["pipeline"]["stats"]
    for key in MEASURED_STATS:
        stats[key] = measured(stats[key])
    diagnostics["model"]["engine"] = engine(diagnostics["model"]["engine"])
    # The two engines (and numpy releases) agree to about 1e-6, not to the last bit.
    reading = diagnostics["pipeline"]["reading"]
    for key, value in reading.items():
        if isinstance(value, float):
            reading[key] = round(value, ENGINE_DECIMALS)
    return plain(diagnostics, paths)


async def test_analyser_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    init_integration: MockConfigEntry,
    generated_pcm: GeneratedPcmSource,
    snapshot: SnapshotAssertion,
    stable_paths: dict[str, str],
) -> None:
    await generated_pcm.play(chord(3.5, (220.0, 277.2, 329.6)))
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, init_integration)
    assert _stable(diagnostics, stable_paths) == snapshot


async def test_strip_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    init_strip: MockConfigEntry,
    snapshot: SnapshotAssertion,
) -> None:
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, init_strip)
    port = init_strip.data["port"]
    assert plain(diagnostics, {port: "<pty>"}) == snapshot
