"""Shared test set-up: the pure core imports as ``music_mood_core`` without installing anything,
and onnxruntime can be hidden to exercise the numpy engine. The data-root helpers live in
tests/data_paths.py (a module tests import; conftest files are not imported)."""

from __future__ import annotations

import importlib.abc
import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


_CORE_PARENT = str(REPO_ROOT / "custom_components" / "music_mood")
if _CORE_PARENT not in sys.path:
    sys.path.insert(0, _CORE_PARENT)


# --- onnxruntime hiding (model runtime tests) --------------------------------------------------
# MUSIC_MOOD_HIDE_ONNXRUNTIME=1 makes `import onnxruntime` fail, as on Home Assistant OS (musl),
# so the numpy engine's fallback is exercised in environments that do have onnxruntime.


class _HideOnnxruntime(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: object, target: object = None) -> None:
        if fullname == "onnxruntime" or fullname.startswith("onnxruntime."):
            raise ModuleNotFoundError(f"{fullname} is hidden by MUSIC_MOOD_HIDE_ONNXRUNTIME=1")
        return None


if os.environ.get("MUSIC_MOOD_HIDE_ONNXRUNTIME") == "1":
    sys.meta_path.insert(0, _HideOnnxruntime())
    for _name in [m for m in sys.modules if m == "onnxruntime" or m.startswith("onnxruntime.")]:
        del sys.modules[_name]
