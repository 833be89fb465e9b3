"""torch: pyproject.toml pins a tested range, the scripts' pin and the installed torch lie in it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import torch
from packaging.requirements import Requirement
from packaging.version import Version

REPO_ROOT = Path(__file__).resolve().parents[2]


def _training_torch_requirement() -> Requirement:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    requirements = [
        Requirement(text) for text in project["project"]["optional-dependencies"]["training"]
    ]
    (torch_requirement,) = [
        requirement for requirement in requirements if requirement.name == "torch"
    ]
    return torch_requirement


def _scripts_torch_pin() -> Version:
    common = (REPO_ROOT / "scripts" / "lib" / "common.sh").read_text(encoding="utf-8")
    match = re.search(r'^TORCH_PIN="torch==([^"]+)"$', common, flags=re.MULTILINE)
    assert match is not None, "TORCH_PIN not found in scripts/lib/common.sh"
    return Version(match.group(1))


def test_training_extra_pins_a_tested_torch_range() -> None:
    specifier = _training_torch_requirement().specifier
    # A lower and an upper bound: a new torch release must not slip in untested.
    operators = {spec.operator for spec in specifier}
    assert operators & {">=", "==", "~="}
    assert operators & {"<", "==", "~="}
    assert specifier.contains(_scripts_torch_pin())


def test_installed_torch_lies_in_the_tested_range() -> None:
    # The local label (+cpu) names the build, not the release.
    installed = Version(Version(torch.__version__).public)
    assert _training_torch_requirement().specifier.contains(installed)
