"""Audio file in, valence/arousal timeline out, through the live pipeline's excerpt path."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from music_mood_core import features as core_features
from music_mood_core.model import BUNDLED_MODEL_PATH, load_model
from music_mood_core.onnx_proto import parse_model
from numpy.typing import NDArray

from .config import SEQUENCE_LENGTH, TARGETS
from .features import decode_audio

# Live audio arrives in small chunks; feeding the file the same way exercises the same code path.
CHUNK_SAMPLES = 4096

# (features (B, 60, 68), raw frame levels (B, 60)) -> valence and arousal (B,) each.
Predictor = Callable[[NDArray[np.float32], NDArray[np.float32]], dict[str, NDArray[np.float64]]]
DEFAULT_MODEL = BUNDLED_MODEL_PATH


@dataclass(frozen=True)
class Timeline:
    times_s: NDArray[np.float64]
    valence: NDArray[np.float64]
    arousal: NDArray[np.float64]

    def rows(self) -> list[dict[str, float]]:
        return [
            {"time_s": round(float(t), 3), "valence": float(v), "arousal": float(a)}
            for t, v, a in zip(self.times_s, self.valence, self.arousal, strict=True)
        ]


def onnxruntime_predictor(model_path: Path) -> Predictor:
    import onnxruntime  # noqa: PLC0415 - optional: only for --onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    session = onnxruntime.InferenceSession(
        str(model_path), options, providers=["CPUExecutionProvider"]
    )

    inputs = {i.name for i in session.get_inputs()}

    def predict(
        batch: NDArray[np.float32], levels: NDArray[np.float32]
    ) -> dict[str, NDArray[np.float64]]:
        feeds = {"features": batch}
        if "loudness" in inputs:
            feeds["loudness"] = levels
        outputs = session.run(list(TARGETS), feeds)
        return {
            t: np.asarray(o, dtype=np.float64)[:, 0] for t, o in zip(TARGETS, outputs, strict=True)
        }

    return predict


def core_predictor(model_path: Path) -> Predictor:
    """The integration's own loader and runner: validates the file as Home Assistant does."""
    model = load_model(model_path)

    def predict(
        batch: NDArray[np.float32], levels: NDArray[np.float32]
    ) -> dict[str, NDArray[np.float64]]:
        outputs = np.asarray(model.predict(batch, levels), dtype=np.float64)
        return {"valence": outputs[:, 0], "arousal": outputs[:, 1]}

    return predict


def model_predictor(model_path: Path, prefer_core: bool = True) -> Predictor:
    return core_predictor(model_path) if prefer_core else onnxruntime_predictor(model_path)


def excerpt_windows(
    samples: NDArray[np.int16], sample_rate: int
) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float64]]:
    """Feed the PCM to an ExcerptStream in live-sized chunks; collect its (60, 68) matrices,
    the raw frame levels (60,) of the same excerpts and their end times."""
    grid = core_features.FrameGrid.from_seconds(sample_rate)
    stream = core_features.ExcerptStream(grid, SEQUENCE_LENGTH)
    matrices, levels, ends = [], [], []
    for start in range(0, samples.size, CHUNK_SAMPLES):
        for window in stream.push(samples[start : start + CHUNK_SAMPLES]):
            matrices.append(window.features)
            levels.append(window.frame_levels_dbfs)
            ends.append(window.end_sample)
    if not matrices:
        return (
            np.zeros((0, SEQUENCE_LENGTH, core_features.N_FEATURES), np.float32),
            np.zeros((0, SEQUENCE_LENGTH), np.float32),
            np.zeros(0),
        )
    return (
        np.stack(matrices).astype(np.float32),
        np.stack(levels).astype(np.float32),
        np.array(ends, dtype=np.float64) / sample_rate,
    )


def predict_file(
    audio_path: Path, predictor: Predictor, sample_rate: int, batch_size: int = 256
) -> Timeline:
    samples = decode_audio(audio_path, sample_rate)
    matrices, levels, times = excerpt_windows(samples, sample_rate)
    outputs: dict[str, list[NDArray[np.float64]]] = {t: [] for t in TARGETS}
    for start in range(0, len(matrices), batch_size):
        predicted = predictor(
            matrices[start : start + batch_size], levels[start : start + batch_size]
        )
        for target in TARGETS:
            outputs[target].append(predicted[target])
    joined = {t: np.concatenate(v) if v else np.zeros(0) for t, v in outputs.items()}
    return Timeline(times, joined["valence"], joined["arousal"])


def write_timeline(timeline: Timeline, path: Path | None) -> str:
    """CSV unless the path ends in .json; returns the text (also written when a path is given)."""
    if path is not None and path.suffix.lower() == ".json":
        text = json.dumps(timeline.rows(), indent=1) + "\n"
    else:
        lines = ["time_s,valence,arousal"] + [
            f"{row['time_s']:.3f},{row['valence']:.6f},{row['arousal']:.6f}"
            for row in timeline.rows()
        ]
        text = "\n".join(lines) + "\n"
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return text


def model_sample_rate(model_path: Path) -> int:
    props = parse_model(model_path.read_bytes()).metadata
    return int(props.get("music_mood.sample_rate", "22050"))


__all__ = ["Timeline", "model_predictor", "predict_file", "write_timeline"]
