"""The coverage gate of the test command: floors fail the run where the data root is present, and
are reported without failing it where the tests that need real music could not run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import coverage

from tests.data_paths import REPO_ROOT

GATE = REPO_ROOT / "scripts" / "lib" / "coverage_gate.py"


def _run_covering_only_const(tmp_path: Path) -> Path:
    """A run's data in which only const.py executed: every floor is far from met."""
    run = tmp_path / "coverage.run"
    data = coverage.CoverageData(basename=str(run))
    const = REPO_ROOT / "custom_components" / "music_mood" / "const.py"
    data.add_lines({str(const): list(range(1, 20))})
    data.write()
    return run


def _gate(tmp_path: Path, data_root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            str(GATE),
            str(tmp_path / "combined"),
            str(_run_covering_only_const(tmp_path)),
        ],
        cwd=REPO_ROOT,
        env={**os.environ, "MUSIC_MOOD_DATA": str(data_root)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_floors_not_met_fail_the_run_where_the_data_root_is_present(tmp_path: Path) -> None:
    data_root = tmp_path / "data"
    data_root.mkdir()
    result = _gate(tmp_path, data_root)
    assert result.returncode == 1
    assert "BELOW FLOOR: glue" in result.stdout
    assert result.stdout.rstrip().endswith("floor(s) not met")


def test_without_a_data_root_the_floors_are_reported_and_not_gated(tmp_path: Path) -> None:
    result = _gate(tmp_path, tmp_path / "absent")
    assert result.returncode == 0
    assert "below floor, not gated: glue" in result.stdout
    assert f"no data root at {tmp_path / 'absent'}" in result.stdout
    assert result.stdout.rstrip().endswith("reported, not gated (no data root)")
