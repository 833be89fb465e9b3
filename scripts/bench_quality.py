"""Quality side by side, in one run, on every set's validation split (not a test: prints figures).

Rows: a constant (the training labels' mean), the first bundled model (the study's GRU), each
candidate of a `music-mood-train default` run, the shipped model, and VibeNet (PyPI `vibenet`
0.1.0, GPL-3), which this script installs into its own environment under
~/.cache/music_mood/venvs/vibenet and runs there; it is never a dependency of the integration or
of training/.

Our models see exactly what the live pipeline computes (the cached excerpts of every 0.5 s hop:
features and raw frame levels), run through the integration's loader. VibeNet gives one valence
and one energy in [0, 1] per file; they are mapped to [-1, 1] (2x - 1) and stand for every excerpt
of the file, so signs are taken at its midpoint and correlations are unaffected by the mapping.

Figures: 4Q and EMOPIA quadrant and per-axis sign accuracy of per-clip means; Emotify and VGMIDI
Spearman and Pearson of per-item means; the study's clips RMSE and Pearson against the 2 Hz labels,
both per excerpt and as the sensors publish the readings: each clip decoded and streamed through
the core from its first second, smoothed by the core's MoodTracker with the integration's default
options (a constant and VibeNet's one value per file are unchanged by smoothing).

    python scripts/bench_quality.py --run runs/default [--data ../shared/data] [--no-vibenet]
"""

# ruff: noqa: PLC0415

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "custom_components" / "music_mood"))

# The first bundled model, before any default run: the study's GRU, trained on the study's clips.
OLD_MODEL_COMMIT = "b0a8b14"
BUNDLED = "custom_components/music_mood/models/default.onnx"
VIBENET_VERSION = "0.1.0"
VIBENET_VENV = Path.home() / ".cache" / "music_mood" / "venvs" / "vibenet"
REPORT_MARK = "<!-- bench_quality -->"

Predict = Callable[[NDArray[np.float32], NDArray[np.float32]], NDArray[np.float64]]

if TYPE_CHECKING:
    from music_mood_core.features import ExcerptWindow
    from music_mood_core.model import MoodModel

    from training.datasets import LabelledItem
    from training.sensor_readings import SensorSmoothing

# The set whose 2 Hz labels follow the music moment to moment: also scored as published.
MOMENT_SET = "emomusic_2013"


def old_model_file(folder: Path) -> Path:
    """The previously bundled model, read from the repository's history."""
    git = shutil.which("git")
    if git is None:
        raise SystemExit("git is needed to read the previously bundled model from the history")
    completed = subprocess.run(
        [git, "show", f"{OLD_MODEL_COMMIT}:{BUNDLED}"],
        cwd=REPO_ROOT,
        capture_output=True,
        check=True,
    )
    path = folder / "old_default.onnx"
    path.write_bytes(completed.stdout)
    return path


def vibenet_python() -> Path:
    python = VIBENET_VENV / "bin" / "python"
    probe = [str(python), "-c", "import vibenet"]
    if python.is_file() and subprocess.run(probe, capture_output=True, check=False).returncode == 0:
        return python
    print(f"installing vibenet=={VIBENET_VERSION} into {VIBENET_VENV}", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(VIBENET_VENV)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", f"vibenet=={VIBENET_VERSION}"], check=True
    )
    return python


def vibenet_predictions(files: dict[str, Path], cache: Path) -> dict[str, tuple[float, float]]:
    """(valence, energy) per key, from VibeNet in its own environment; cached in the run folder."""
    known: dict[str, dict[str, float]] = {}
    if cache.is_file():
        known = json.loads(cache.read_text(encoding="utf-8"))
    missing = {key: str(path) for key, path in files.items() if key not in known}
    if missing:
        python = vibenet_python()
        with tempfile.TemporaryDirectory() as folder:
            request, result = Path(folder) / "request.json", Path(folder) / "result.json"
            request.write_text(json.dumps({"files": missing}), encoding="utf-8")
            subprocess.run(
                [
                    str(python),
                    str(REPO_ROOT / "scripts" / "vibenet_predict.py"),
                    str(request),
                    str(result),
                ],
                check=True,
                env={**os.environ, "OMP_NUM_THREADS": "1"},
            )
            known.update(json.loads(result.read_text(encoding="utf-8")))
        cache.write_text(json.dumps(known, indent=0), encoding="utf-8")
    return {key: (known[key]["valence"], known[key]["energy"]) for key in files}


def integration_sensor_defaults() -> SensorSmoothing:
    """The analyser's default smoothing and silence options, read from the integration's const.py.

    Loaded by path: the integration's package imports Home Assistant, its constants do not.
    """
    from training.sensor_readings import SensorSmoothing

    path = REPO_ROOT / "custom_components" / "music_mood" / "const.py"
    spec = importlib.util.spec_from_file_location("music_mood_integration_const", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot read the integration's defaults from {path}")
    const = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(const)
    return SensorSmoothing(
        smoothing_s=float(const.DEFAULT_SMOOTHING_S),
        silence_threshold_db=float(const.DEFAULT_SILENCE_THRESHOLD_DB),
        silence_duration_s=float(const.DEFAULT_SILENCE_DURATION_S),
    )


def published_figures(
    models: dict[str, MoodModel], items: list[LabelledItem], sensor: SensorSmoothing
) -> dict[str, dict[str, float]]:
    """The study clips' figures of each model's readings as the sensors publish them."""
    from music_mood_core.timeline import predict_windows

    from training.features import decode_audio
    from training.quality import set_figures
    from training.sensor_readings import at_label_times, published_values

    figures: dict[str, dict[str, float]] = {}
    windows: dict[tuple[str, object], list[ExcerptWindow]] = {}
    for label, model in models.items():
        hop_s = float(model.info.hop_s)
        scored = []
        for item in items:
            # Models on the same excerpt stream share its windows (the features of the live path).
            stream = model.info.excerpt_stream()
            key = (item.item_id, (stream.grid, stream.sequence_length, stream.hop_samples))
            if key not in windows:
                windows[key] = stream.push(decode_audio(item.audio, int(model.info.sample_rate)))
            readings = predict_windows(model, windows[key])
            values = published_values(readings, hop_s, sensor)
            scored.append(at_label_times(item, readings, values, hop_s))
        figures[label] = set_figures(MOMENT_SET, scored)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", type=Path, default=REPO_ROOT / "runs" / "default")
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--no-vibenet", action="store_true")
    parser.add_argument("--shipped", type=Path, default=REPO_ROOT / BUNDLED)
    args = parser.parse_args()

    from music_mood_core.model import load_model

    from training.datasets import SET_NAMES, data_root, default_cache_dir, load_set, read_split
    from training.default_command import default_excerpt_cache
    from training.excerpt_data import ExcerptArrays, assemble
    from training.quality import (
        ItemPredictions,
        figures_behind,
        figures_markdown,
        goal_misses,
        set_figures,
    )

    started = time.perf_counter()
    root = data_root(args.data)
    summary = json.loads((args.run / "summary.json").read_text(encoding="utf-8"))
    weights = summary["settings"]["set_weights"]
    validation: dict[str, ExcerptArrays] = {}
    audio: dict[str, dict[str, Path]] = {}
    moment_items: list[LabelledItem] = []
    for name in SET_NAMES:
        split = args.run / "splits" / f"{name}.json"
        if not split.is_file():
            continue
        train_ids, validation_ids = read_split(split)
        # A set the run did not train on (weight 0) validates on all of its listed items.
        wanted = set(validation_ids) | (set(train_ids) if weights.get(name, 1.0) == 0 else set())
        set_items = [
            item
            for item in load_set(name, root, cache_dir=default_cache_dir(), report=lambda _m: None)
            if item.item_id in wanted
        ]
        if not set_items:
            continue
        validation[name] = assemble(set_items, default_excerpt_cache())
        audio[name] = {item.item_id: item.audio for item in set_items}
        if name == MOMENT_SET:
            moment_items = set_items

    with tempfile.TemporaryDirectory() as folder:
        models: dict[str, Predict] = {}
        constant = np.array(summary["constant"], dtype=np.float64)
        models["constant"] = lambda f, _l: np.tile(constant, (len(f), 1))

        # Our current models, also scored as published on the study's clips.
        current: dict[str, MoodModel] = {}

        def add_model(label: str, path: Path, *, published: bool = True) -> None:
            model = load_model(path)
            models[label] = lambda f, levels: np.asarray(model.predict(f, levels), np.float64)
            if published:
                current[label] = model

        # The first bundled model was trained on the study's clips: no published view of them.
        add_model("first bundled model (study GRU)", old_model_file(Path(folder)), published=False)
        for path in sorted((args.run / "candidates").glob("*.onnx")):
            add_model(f"candidate {path.stem}", path)
        add_model("shipped model", args.shipped)

        rows: dict[str, dict[str, dict[str, float]]] = {}
        for label, predict in models.items():
            rows[label] = {}
            for name, arrays in validation.items():
                predicted = np.concatenate(
                    [
                        predict(arrays.features[s : s + 512], arrays.levels[s : s + 512])
                        for s in range(0, len(arrays), 512)
                    ]
                )
                items = [
                    ItemPredictions(key[1], predicted[r], arrays.targets[r].astype(np.float64))
                    for key, r in arrays.item_rows().items()
                ]
                rows[label][name] = set_figures(name, items)

        sensor = integration_sensor_defaults()
        as_published = f", as published (sensor smoothing {sensor.smoothing_s:g} s)"
        published: dict[str, dict[str, dict[str, float]]] = {}
        if moment_items:
            published = {
                label + as_published: {MOMENT_SET: figures}
                for label, figures in published_figures(current, moment_items, sensor).items()
            }

    if not args.no_vibenet:
        files = {
            f"{name}/{item_id}": path
            for name, ids in audio.items()
            for item_id, path in ids.items()
        }
        vibe = vibenet_predictions(files, args.run / "vibenet_predictions.json")
        rows["VibeNet 0.1.0"] = {}
        for name, arrays in validation.items():
            items = []
            for key, r in arrays.item_rows().items():
                valence, energy = vibe[f"{name}/{key[1]}"]
                value = np.array([2 * valence - 1, 2 * energy - 1])
                items.append(
                    ItemPredictions(
                        key[1], np.tile(value, (len(r), 1)), arrays.targets[r].astype(np.float64)
                    )
                )
            rows["VibeNet 0.1.0"][name] = set_figures(name, items)

    rows.update(published)
    table = figures_markdown(rows)
    shipped = rows["shipped model"]
    shipped_published = rows.get("shipped model" + as_published, {})
    misses = goal_misses(shipped)
    vibenet = rows.get("VibeNet 0.1.0")
    if vibenet is not None:
        behind = figures_behind(shipped, vibenet)
        if behind:
            misses.append("behind VibeNet per excerpt: " + ", ".join(behind))
        behind = figures_behind(shipped_published, vibenet)
        if behind:
            misses.append("behind VibeNet as published: " + ", ".join(behind))
    below_constant = [
        f"{view} {', '.join(worse)}"
        for view, figures in (("per excerpt", shipped), ("as published", shipped_published))
        if (worse := figures_behind(figures, rows["constant"]))
    ]
    text = "\n".join(
        [
            REPORT_MARK,
            "## Quality side by side (scripts/bench_quality.py)",
            "",
            "Validation items only (group-disjoint from training); per-item means of the 3 s "
            "excerpt predictions, as the live pipeline computes them. The study's clips: every "
            "excerpt against its 2 Hz label (RMSE lower is better); these 8 development songs "
            "are not trained on by the default run, but the first bundled model (the study's "
            "GRU) WAS trained on them, so its emomusic_2013 row is not a validation figure. "
            "VibeNet: one value per file, mapped 2x - 1 (signs at its midpoint 0.5).",
            "",
            f"Rows marked *as published* score what the valence and arousal sensors show: each "
            f"study clip decoded and streamed through the core from its start, every reading "
            f"passed through the core's mood tracker with the integration's defaults "
            f"(smoothing {sensor.smoothing_s:g} s, silence below "
            f"{sensor.silence_threshold_db:g} dBFS for {sensor.silence_duration_s:g} s) and "
            f"compared with the label at the same time. The constant and VibeNet's one value "
            f"per file are unchanged by that smoothing, so their rows stand for both views.",
            "",
            table,
            "Goals missed by the shipped model: " + ("; ".join(misses) if misses else "none") + ".",
            "",
            "Not a goal, but worse than the constant (the training labels' mean): "
            + ("; ".join(below_constant) if below_constant else "nowhere")
            + ".",
            f"\nBenchmark run time {time.perf_counter() - started:.0f} s.",
            "",
        ]
    )
    print(text)
    (args.run / "quality.md").write_text(text, encoding="utf-8")
    (args.run / "quality.json").write_text(json.dumps(rows, indent=1), encoding="utf-8")
    report = args.run / "report.md"
    if report.is_file():
        body = report.read_text(encoding="utf-8").split(REPORT_MARK)[0].rstrip()
        report.write_text(body + "\n\n" + text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
