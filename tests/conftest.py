"""Shared test set-up: the pure core is importable as ``music_mood_core`` without installing anything."""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = REPO_ROOT / "data"
EMOMUSIC_DIR = DATA_DIR / "emomusic_2013_sample"
LIBROSA_CC_DIR = DATA_DIR / "librosa_cc"

_CORE_PARENT = str(REPO_ROOT / "custom_components" / "music_mood")
if _CORE_PARENT not in sys.path:
    sys.path.insert(0, _CORE_PARENT)
