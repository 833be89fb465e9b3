"""scripts/lib/skip_summary.py: the skip table scripts/test.sh prints, from real junit reports."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "scripts" / "lib" / "skip_summary.py"

SUITE = """
import pytest


@pytest.mark.parametrize("index", range(3))
def test_needs_data(index):
    pytest.skip("labelled data not found under the data root (MUSIC_MOOD_DATA)")


@pytest.mark.skipif(True, reason="onnxruntime hidden")
def test_onnxruntime():
    pass


def test_runs():
    assert True
"""


def _junit_of_a_real_run(tmp_path: Path, name: str) -> Path:
    suite = tmp_path / f"test_{name}.py"
    suite.write_text(SUITE, encoding="utf-8")
    report = tmp_path / f"{name}.xml"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            f"--junitxml={report}",
            "--rootdir",
            str(tmp_path),
            "-c",
            "/dev/null",
            str(suite),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        # Only pytest itself: the environment's plugins (Home Assistant's) are not needed here.
        env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return report


def _summary(*arguments: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), *arguments], capture_output=True, text=True, check=True
    )
    return result.stdout.splitlines()


def test_skips_are_grouped_by_reason_with_count_and_suite(tmp_path: Path) -> None:
    report = _junit_of_a_real_run(tmp_path, "suite")
    lines = _summary(f"ha-min={report}", f"ha-new={report}")
    assert lines[0].startswith("skipped, by reason")
    rows = [line.split(maxsplit=2) for line in lines[1:]]
    assert rows == [
        ["3", "ha-min", "labelled data not found under the data root (MUSIC_MOOD_DATA)"],
        ["3", "ha-new", "labelled data not found under the data root (MUSIC_MOOD_DATA)"],
        ["1", "ha-min", "onnxruntime hidden"],
        ["1", "ha-new", "onnxruntime hidden"],
    ]


def test_no_skips_and_missing_reports_say_so(tmp_path: Path) -> None:
    assert _summary(f"training={tmp_path / 'missing.xml'}") == ["skipped: none"]
    report = tmp_path / "clean.xml"
    report.write_text(
        '<testsuites><testsuite name="pytest" tests="1"><testcase name="t"/></testsuite>'
        "</testsuites>",
        encoding="utf-8",
    )
    assert _summary(f"ha-new={report}") == ["skipped: none"]
