"""Prints the Python requirements Home Assistant would install at the demo's first start.

Home Assistant installs an integration's requirements when it first loads it. The demo installs them up
front instead (with pip, pinned by Home Assistant's own package_constraints.txt), so the first start is
quick and does not depend on building source distributions at runtime. Run it with the demo venv's Python.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import homeassistant
from homeassistant import bootstrap
from homeassistant.auth.mfa_modules import totp

COMPONENTS = Path(homeassistant.__file__).parent / "components"
# Domains configuration.yaml names, beyond those Home Assistant always loads.
CONFIGURED = {"frontend", "config", "history", "logbook", "demo", "ffmpeg", "logger"}
ALWAYS_LOADED_SETS = (
    "CORE_INTEGRATIONS",
    "LOGGING_AND_HTTP_DEPS_INTEGRATIONS",
    "FRONTEND_INTEGRATIONS",
    "DEFAULT_INTEGRATIONS",
)
# The entity platforms the demo integration sets up (each its own integration).
DEMO_PLATFORMS = {"light", "sensor", "switch", "camera", "media_player", "stt", "tts", "notify", "update"}


def always_loaded() -> set[str]:
    """The domains Home Assistant sets up without being configured (STAGE_1 ones need configuring)."""
    domains: set[str] = set()
    for name in ALWAYS_LOADED_SETS:
        domains |= set(getattr(bootstrap, name, set()))
    return domains - {"sentry"}


def manifest(domain: str) -> dict[str, object] | None:
    path = COMPONENTS / domain / "manifest.json"
    if not path.is_file():
        return None
    loaded: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def requirements(roots: set[str]) -> list[str]:
    found: set[str] = set(totp.REQUIREMENTS)
    seen: set[str] = set()
    pending = list(roots)
    while pending:
        domain = pending.pop()
        if domain in seen:
            continue
        seen.add(domain)
        data = manifest(domain)
        if data is None:
            continue
        found.update(str(item) for item in data.get("requirements", []))  # type: ignore[attr-defined]
        pending.extend(str(item) for item in data.get("dependencies", []))  # type: ignore[attr-defined]
    return sorted(found)


if __name__ == "__main__":
    sys.stdout.write("\n".join(requirements(always_loaded() | CONFIGURED | DEMO_PLATFORMS)) + "\n")
