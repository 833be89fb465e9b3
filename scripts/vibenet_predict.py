"""Run VibeNet on audio files; executed by scripts/bench_quality.py inside VibeNet's own venv.

VibeNet (PyPI `vibenet`, GPL-3) is a peer to compare with, never a dependency of Music Mood: this
script only runs in the separate environment bench_quality.py creates for it, and talks to the
benchmark through JSON files. Audio is decoded by ffmpeg (argument list, no shell) to 16 kHz mono,
VibeNet's own rate, so both sides hear the same decoder's output.

usage: python vibenet_predict.py REQUEST.json RESULT.json
  REQUEST: {"files": {"key": "/path/audio", ...}}   RESULT: {"key": {"valence": v, "energy": e}}
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

SAMPLE_RATE = 16000


def decode(path: str) -> np.ndarray:
    command = [
        "ffmpeg", "-nostdin", "-v", "error", "-i", "file:" + path,
        "-vn", "-ac", "1", "-ar", str(SAMPLE_RATE), "-f", "f32le", "-",
    ]  # fmt: skip
    completed = subprocess.run(command, capture_output=True, check=True, timeout=300)
    return np.frombuffer(completed.stdout, dtype="<f4").astype(np.float32)


def main() -> int:
    import vibenet  # noqa: PLC0415 - only present in VibeNet's own environment

    request_path, result_path = sys.argv[1], sys.argv[2]
    with open(request_path, encoding="utf-8") as handle:
        files: dict[str, str] = json.load(handle)["files"]
    model = vibenet.load_model()
    results: dict[str, dict[str, float]] = {}
    for key, path in files.items():
        (result,) = model.predict(decode(path), sr=SAMPLE_RATE)
        results[key] = {"valence": float(result.valence), "energy": float(result.energy)}
    with open(result_path, "w", encoding="utf-8") as handle:
        json.dump(results, handle)
    return 0


if __name__ == "__main__":
    sys.exit(main())
