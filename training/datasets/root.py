"""Where the labelled music lives: one data root for training, tests and benchmarks.

The data are third-party research sets and are never part of the repository; they sit in a folder
next to it (``../shared/data``), or wherever ``--data`` or the ``MUSIC_MOOD_DATA`` environment
variable says.
Standard library only, so the Home Assistant test environments can use it too.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

DATA_ENV = "MUSIC_MOOD_DATA"
CACHE_ENV = "MUSIC_MOOD_DATASET_CACHE"
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA_ROOT = REPO_ROOT.parent / "shared" / "data"
WHERE_THE_DATA_COMES_FROM = (
    "the labelled music is not part of the repository: put the data folder (emomusic_2013/, "
    "librosa_data_cc/, 4q_panda/, emotify/, vgmidi/, emopia/; its PROVENANCE.md names each set's "
    "source) "
    f"at ../shared/data next to the repository, or point --data or {DATA_ENV} at it"
)


class DataRootMissing(FileNotFoundError):
    """The data folder does not exist; the message says where the data come from."""


def add_data_root_argument(parser: argparse.ArgumentParser) -> None:
    """The ``--data`` option every command that reads the labelled music takes."""
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help=f"data root (default: ${DATA_ENV} or ../shared/data)",
    )


def data_root_candidate(option: str | os.PathLike[str] | None = None) -> Path:
    """The data folder that would be used: option > $MUSIC_MOOD_DATA > <repo>/../shared/data."""
    if option is not None and str(option):
        return Path(option).expanduser()
    from_env = os.environ.get(DATA_ENV)
    if from_env:
        return Path(from_env).expanduser()
    return DEFAULT_DATA_ROOT


def data_root(option: str | os.PathLike[str] | None = None) -> Path:
    """The existing data folder, or DataRootMissing naming where the data come from."""
    root = data_root_candidate(option)
    if not root.is_dir():
        raise DataRootMissing(f"data folder {root} not found; {WHERE_THE_DATA_COMES_FROM}")
    return root


def data_path(*parts: str, option: str | os.PathLike[str] | None = None) -> Path:
    """A file or folder inside the data root; DataRootMissing if it is not there."""
    path = data_root(option).joinpath(*parts)
    if not path.exists():
        raise DataRootMissing(f"{path} not found; {WHERE_THE_DATA_COMES_FROM}")
    return path


def default_cache_dir() -> Path:
    """Where MIDI renders and probed durations are kept ($MUSIC_MOOD_DATASET_CACHE overrides)."""
    from_env = os.environ.get(CACHE_ENV)
    if from_env:
        return Path(from_env).expanduser()
    return Path.home() / ".cache" / "music_mood" / "datasets"
