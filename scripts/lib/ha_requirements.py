"""Prints the Python requirements of Home Assistant integrations, as Home Assistant installs them.

Home Assistant installs an integration's requirements (and those of its dependencies) when it first
loads it. The test and demo venvs install them up front with pip instead, pinned by Home Assistant's
own package_constraints.txt: tests can then import integrations such as camera, and the demo's first
start builds no source distributions at runtime. Run it with the venv's Python:

    python ha_requirements.py DOMAIN ...           requirements of these domains and what they need
    python ha_requirements.py --imported-by DIR    ... of the domains the .py files in DIR import
    python ha_requirements.py --always-loaded ...  also of what Home Assistant sets up unconfigured
    python ha_requirements.py --constraints        path of Home Assistant's package_constraints.txt
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import homeassistant

HA_PACKAGE = Path(homeassistant.__file__).parent
COMPONENTS = HA_PACKAGE / "components"
# Sets in homeassistant.bootstrap of domains set up without configuration (STAGE_1 ones need it).
ALWAYS_LOADED_SETS = (
    "CORE_INTEGRATIONS",
    "LOGGING_AND_HTTP_DEPS_INTEGRATIONS",
    "FRONTEND_INTEGRATIONS",
    "DEFAULT_INTEGRATIONS",
)
IMPORT_PATTERN = re.compile(r"^\s*(?:from|import)\s+homeassistant\.components\.(\w+)", re.MULTILINE)


def always_loaded() -> set[str]:
    from homeassistant import bootstrap  # noqa: PLC0415 - only this mode needs it

    domains: set[str] = set()
    for name in ALWAYS_LOADED_SETS:
        domains |= set(getattr(bootstrap, name, set()))
    return domains - {"sentry"}


def imported_by(folder: Path) -> set[str]:
    return {
        match
        for path in folder.rglob("*.py")
        for match in IMPORT_PATTERN.findall(path.read_text(encoding="utf-8"))
    }


def auth_requirements() -> set[str]:
    """The login page's two-factor module needs these before any integration loads."""
    from homeassistant.auth.mfa_modules import totp  # noqa: PLC0415 - only the demo needs it

    return set(totp.REQUIREMENTS)


def requirements(roots: set[str]) -> set[str]:
    found: set[str] = set()
    seen: set[str] = set()
    pending = sorted(roots)
    while pending:
        domain = pending.pop()
        if domain in seen:
            continue
        seen.add(domain)
        manifest_path = COMPONENTS / domain / "manifest.json"
        if not manifest_path.is_file():
            continue
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        found.update(manifest.get("requirements", []))
        pending.extend(manifest.get("dependencies", []))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description="Requirements of Home Assistant integrations.")
    parser.add_argument("domains", nargs="*")
    parser.add_argument("--imported-by", type=Path, action="append", default=[])
    parser.add_argument("--always-loaded", action="store_true")
    parser.add_argument("--constraints", action="store_true")
    arguments = parser.parse_args()
    if arguments.constraints:
        print(HA_PACKAGE / "package_constraints.txt")
        return
    roots = set(arguments.domains)
    for folder in arguments.imported_by:
        roots |= imported_by(folder)
    found = requirements(roots)
    if arguments.always_loaded:
        found |= requirements(always_loaded()) | auth_requirements()
    print("\n".join(sorted(found)))


if __name__ == "__main__":
    main()
