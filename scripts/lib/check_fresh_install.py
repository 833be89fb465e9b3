"""Install Music Mood as Home Assistant does, into a Home Assistant without numpy, and set it up.

Run by scripts/test.sh with the python of a venv that holds Home Assistant and nothing else:

    python check_fresh_install.py REPO_ROOT

It checks that numpy is missing, has Home Assistant's own requirement installer process the
manifest (with Home Assistant's package constraints, as on a real Core install), then sets the
integration up in a real Home Assistant core and prints what was installed. Exit status 0 on
success; 1 with the reason otherwise.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import importlib.util
import json
import logging
import sys
import tempfile
from pathlib import Path

from homeassistant import bootstrap, loader
from homeassistant.config_entries import ConfigEntries
from homeassistant.const import __version__ as ha_version
from homeassistant.core import HomeAssistant
from homeassistant.requirements import async_get_integration_with_requirements
from homeassistant.setup import async_setup_component

DOMAIN = "music_mood"


def _fail(message: str) -> int:
    print(f"fresh install: FAILED: {message}", file=sys.stderr)
    return 1


async def _install_and_set_up(repo_root: Path, config_dir: Path) -> str | None:
    """None on success, else why it failed."""
    (config_dir / "custom_components").mkdir()
    (config_dir / "custom_components" / DOMAIN).symlink_to(
        repo_root / "custom_components" / DOMAIN, target_is_directory=True
    )
    hass = HomeAssistant(str(config_dir))
    hass.config.skip_pip = False
    loader.async_setup(hass)
    hass.config_entries = ConfigEntries(hass, {})
    # The registries and stores every integration's setup expects, loaded as at a real start.
    if not await bootstrap.async_load_base_functionality(hass):
        return "Home Assistant's registries did not load"
    await hass.async_start()
    try:
        # Home Assistant's installer: the manifest's requirements and those of its dependencies,
        # each installed under homeassistant/package_constraints.txt.
        await async_get_integration_with_requirements(hass, DOMAIN)
        if not await async_setup_component(hass, DOMAIN, {}):
            return "Home Assistant could not set the integration up (log above)"
        if DOMAIN not in hass.config.components:
            return "the integration is not among the loaded components"
        if not hass.services.has_service(DOMAIN, "analyze"):
            return "the integration loaded but registered no analyze action"
    finally:
        await hass.async_stop(force=True)
    return None


def main(arguments: list[str]) -> int:
    if len(arguments) != 1:
        return _fail("usage: check_fresh_install.py REPO_ROOT")
    repo_root = Path(arguments[0]).resolve()
    manifest = json.loads(
        (repo_root / "custom_components" / DOMAIN / "manifest.json").read_text(encoding="utf-8")
    )
    if importlib.util.find_spec("numpy") is not None:
        return _fail("numpy is already installed here; the check needs a venv without it")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    with tempfile.TemporaryDirectory() as config_dir:
        if (reason := asyncio.run(_install_and_set_up(repo_root, Path(config_dir)))) is not None:
            return _fail(reason)
    numpy_version = importlib.metadata.version("numpy")
    requirements = ", ".join(manifest["requirements"])
    print(
        f"fresh install: Home Assistant {ha_version} without numpy installed [{requirements}] "
        f"with its own installer (numpy {numpy_version}) and set Music Mood up"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
