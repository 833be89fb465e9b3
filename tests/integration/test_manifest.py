"""The integration's manifest.json: complete, and installable on Home Assistant OS (musl wheels)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement

REPO_ROOT = Path(__file__).resolve().parents[2]

INTEGRATION_DIR = REPO_ROOT / "custom_components" / "music_mood"
MANIFEST_PATH = INTEGRATION_DIR / "manifest.json"
PYPI_SIMPLE = "https://pypi.org/simple"
# Home Assistant OS and the official containers are Alpine (musl) on these machines.
MUSL_PLATFORMS = ["musllinux_1_2_x86_64", "musllinux_1_2_aarch64"]
HA_MINIMUM_PYTHON = "3.13"
# Folders that hold no source: tool caches and the generated demo configuration.
NOT_SOURCE = {
    ".git",
    ".cache",
    ".venv",
    "node_modules",
    "__pycache__",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    "runs",
    "build",
    "dist",
}


def _manifest() -> dict[str, Any]:
    manifest: dict[str, Any] = json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))
    return manifest


def test_manifest_has_every_required_key_with_the_intended_value() -> None:
    manifest = _manifest()

    assert manifest["domain"] == "music_mood"
    assert manifest["name"] == "Music Mood"
    assert manifest["config_flow"] is True
    assert manifest["iot_class"] == "local_push"
    assert manifest["integration_type"] in {"device", "hub", "service"}
    assert manifest["dependencies"] == ["ffmpeg"]
    assert manifest["documentation"].startswith("https://")
    assert manifest["issue_tracker"].startswith("https://")
    assert manifest["codeowners"]
    assert all(owner.startswith("@") for owner in manifest["codeowners"])
    # Custom integrations must carry a version that AwesomeVersion can parse.
    assert all(part.isdigit() for part in manifest["version"].split("."))
    assert isinstance(manifest["requirements"], list)
    # Exact pins, except numpy (below): Home Assistant pins it itself.
    assert all(
        "==" in requirement
        for requirement in manifest["requirements"]
        if Requirement(requirement).name != "numpy"
    )


def _numpy_requirement() -> Requirement:
    requirements = [Requirement(text) for text in _manifest()["requirements"]]
    (numpy,) = [requirement for requirement in requirements if requirement.name == "numpy"]
    return numpy


def test_numpy_is_declared_with_a_lower_bound_only() -> None:
    """Home Assistant 2026.x no longer requires numpy itself, so the manifest must; an exact pin or
    an upper bound would clash with the numpy Home Assistant's package constraints pin."""
    specifier = _numpy_requirement().specifier
    assert {spec.operator for spec in specifier} == {">="}
    assert not specifier.contains("1.25.2")


def test_numpy_requirement_admits_home_assistants_pin() -> None:
    import homeassistant

    constraints = Path(homeassistant.__file__).parent / "package_constraints.txt"
    pins = [
        Requirement(line.split("#")[0].strip())
        for line in constraints.read_text(encoding="utf-8").splitlines()
        if line.split("#")[0].strip()
    ]
    pinned = {
        spec.version for pin in pins if pin.name == "numpy" for spec in pin.specifier
    }  # 2025.4 lists numpy twice
    assert pinned
    assert all(_numpy_requirement().specifier.contains(version) for version in pinned)


def test_manifest_is_the_only_file_named_manifest_json() -> None:
    found = []
    for root, dirs, files in os.walk(REPO_ROOT):
        dirs[:] = [name for name in dirs if name not in NOT_SOURCE and not name.startswith(".venv")]
        if "manifest.json" in files:
            found.append((Path(root) / "manifest.json").relative_to(REPO_ROOT))
    # demo/config is generated (gitignored) and links the integration in: not a second manifest.
    found = [path for path in found if path.parts[:2] != ("demo", "config")]

    assert found == [MANIFEST_PATH.relative_to(REPO_ROOT)]


def _pypi_unreachable_reason() -> str | None:
    """None when PyPI answers, else why not. In a subprocess: the test harness blocks sockets."""
    probe = (
        "import sys, urllib.request\n"
        "try:\n"
        f"    urllib.request.urlopen('{PYPI_SIMPLE}/pip/', timeout=20).read(1)\n"
        "except Exception as error:\n"
        "    print(f'{type(error).__name__}: {error}')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False
    )
    return result.stdout.strip() or None


@pytest.mark.parametrize("platform", MUSL_PLATFORMS)
@pytest.mark.parametrize("requirement", _manifest()["requirements"])
def test_requirement_has_a_musllinux_wheel(requirement: str, platform: str, tmp_path: Path) -> None:
    """pip finds a wheel (never an sdist) for Home Assistant OS's Python and platform."""
    if (reason := _pypi_unreachable_reason()) is not None:
        pytest.skip(f"PyPI unreachable, cannot check wheels ({reason})")
    # Ask PyPI itself, ignoring local pip configuration (mirrors, find-links, constraints).
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PIP_")}
    environment["PIP_CONFIG_FILE"] = os.devnull
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--platform",
        platform,
        "--python-version",
        HA_MINIMUM_PYTHON,
        "--implementation",
        "cp",
        "--index-url",
        PYPI_SIMPLE,
        "--dest",
        str(tmp_path),
        requirement,
    ]
    result = subprocess.run(command, capture_output=True, text=True, env=environment, check=False)

    assert result.returncode == 0, (
        f"no {platform} wheel for {requirement}:\n{result.stdout}\n{result.stderr}"
    )
    wheels = list(tmp_path.glob("*.whl"))
    assert len(wheels) == 1, wheels
