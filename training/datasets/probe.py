"""Audio durations from ffprobe, remembered in the cache folder (keyed by path, size and mtime)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

DURATIONS_FILE = "durations.json"
PROBE_TIMEOUT_S = 60


class UnreadableAudio(Exception):
    """ffprobe could not read a duration from the file."""


def _probe(path: Path) -> float:
    command = [
        "ffprobe",
        "-v",
        "error",
        "-show_entries",
        "format=duration",
        "-of",
        "default=noprint_wrappers=1:nokey=1",
        "--",
        str(path),
    ]
    try:
        done = subprocess.run(command, capture_output=True, timeout=PROBE_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise UnreadableAudio(f"ffprobe failed: {error}") from error
    text = done.stdout.decode("utf-8", errors="replace").strip()
    try:
        duration = float(text)
    except ValueError:
        message = done.stderr.decode("utf-8", errors="replace").strip()[-200:]
        raise UnreadableAudio(
            f"no duration ({message or 'ffprobe printed ' + repr(text)})"
        ) from None
    if not duration > 0:
        raise UnreadableAudio(f"duration {duration} s")
    return duration


class DurationCache:
    """Probes each audio file once; later loads read the stored value."""

    def __init__(self, cache_dir: Path) -> None:
        self._path = cache_dir / DURATIONS_FILE
        self._known: dict[str, float] = {}
        self._dirty = False
        if self._path.is_file():
            try:
                stored = json.loads(self._path.read_text(encoding="utf-8"))
                self._known = {str(k): float(v) for k, v in stored.items()}
            except (ValueError, AttributeError):
                self._known = {}

    @staticmethod
    def _key(path: Path) -> str:
        stat = path.stat()
        return f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"

    def duration_s(self, path: Path) -> float:
        key = self._key(path)
        if key not in self._known:
            self._known[key] = _probe(path)
            self._dirty = True
        return self._known[key]

    def save(self) -> None:
        if not self._dirty:
            return
        self._path.parent.mkdir(parents=True, exist_ok=True)
        partial = self._path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps(self._known, indent=0, sort_keys=True), encoding="utf-8")
        partial.replace(self._path)
        self._dirty = False
