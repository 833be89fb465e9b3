"""Scripts and demo files loaded as modules by path: they are not in an importable package."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

REPO_ROOT = Path(__file__).resolve().parents[1]


def load_file_module(relative_path: str, name: str) -> ModuleType:
    """The file at ``relative_path`` (from the repository root) run as module ``name``."""
    spec = importlib.util.spec_from_file_location(name, REPO_ROOT / relative_path)
    if spec is None or spec.loader is None:
        raise ImportError(f"{relative_path} cannot be loaded as a module")
    module = importlib.util.module_from_spec(spec)
    # Registered first: dataclasses look their module up while the file runs.
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
