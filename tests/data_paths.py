"""Where the tests find real music (the data root, never the repository), and how a test that
needs it skips with a reason naming where the data come from."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def _data_root_module() -> ModuleType:
    # Loaded by path: training/datasets/__init__.py needs the training environment's packages,
    # root.py only the standard library, and the Home Assistant environments import it too.
    spec = importlib.util.spec_from_file_location(
        "music_mood_data_root", REPO_ROOT / "training" / "datasets" / "root.py"
    )
    if spec is None or spec.loader is None:
        raise ImportError("training/datasets/root.py is missing")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_ROOT = _data_root_module()
# --data has no pytest equivalent: MUSIC_MOOD_DATA or the default ../shared/data.
DATA_ROOT: Path = _ROOT.data_root_candidate()
EMOMUSIC_DIR = DATA_ROOT / "emomusic_2013"
LIBROSA_CC_DIR = DATA_ROOT / "librosa_data_cc"


def missing_data_reason(*paths: Path) -> str | None:
    """Why a test cannot run (which data files are absent and where they come from), or None."""
    missing = [path for path in paths if not path.exists()]
    if not missing:
        return None
    shown = ", ".join(
        str(path.relative_to(DATA_ROOT)) if path.is_relative_to(DATA_ROOT) else str(path)
        for path in missing[:3]
    )
    return f"needs {shown} in the data root {DATA_ROOT}: {_ROOT.WHERE_THE_DATA_COMES_FROM}"


def needs_data(*paths: Path) -> pytest.MarkDecorator:
    """Skip marker for a test that reads these files from the data root."""
    reason = missing_data_reason(*paths)
    return pytest.mark.skipif(reason is not None, reason=reason or "")


def require_data(path: Path) -> Path:
    """The data file, or a skip of the calling test (or fixture) saying where the data come from."""
    reason = missing_data_reason(path)
    if reason is not None:
        pytest.skip(reason)
    return path
