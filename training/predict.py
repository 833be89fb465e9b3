"""Audio file in, valence/arousal timeline out, through the integration's own timeline path.

The file is decoded at the model's sample rate with the live ffmpeg arguments, and
``music_mood_core.timeline`` reads it on the model's own frame grid, excerpt length, hop and format
(its metadata): the rows equal the ``analyze`` action's and the live analyser's readings.
"""

from __future__ import annotations

import json
from pathlib import Path

from music_mood_core.audio import decode_file
from music_mood_core.model import BUNDLED_MODEL_PATH, MoodModel, load_model
from music_mood_core.timeline import Timeline, timeline

DEFAULT_MODEL = BUNDLED_MODEL_PATH


def open_model(model_path: Path, *, onnxruntime: bool = False) -> MoodModel:
    """The integration's loader (validation included); ``onnxruntime`` insists on that engine,
    otherwise onnxruntime is used when it imports and the numpy engine when not."""
    return load_model(model_path, engine="onnxruntime" if onnxruntime else "auto")


def predict_file(audio_path: Path, model: MoodModel) -> Timeline:
    """The timeline of a whole audio file, decoded at the model's sample rate."""
    samples = decode_file(audio_path, int(model.info.sample_rate))
    return timeline(samples, model)


def timeline_rows(readings: Timeline) -> list[dict[str, float]]:
    return [
        {"time_s": round(float(t), 3), "valence": float(v), "arousal": float(a)}
        for t, v, a in zip(readings.times_s, readings.valence, readings.arousal, strict=True)
    ]


def write_timeline(readings: Timeline, path: Path | None) -> str:
    """CSV unless the path ends in .json; returns the text (also written when a path is given)."""
    rows = timeline_rows(readings)
    if path is not None and path.suffix.lower() == ".json":
        text = json.dumps(rows, indent=1) + "\n"
    else:
        lines = ["time_s,valence,arousal"] + [
            f"{row['time_s']:.3f},{row['valence']:.6f},{row['arousal']:.6f}" for row in rows
        ]
        text = "\n".join(lines) + "\n"
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return text


__all__ = ["DEFAULT_MODEL", "open_model", "predict_file", "timeline_rows", "write_timeline"]
