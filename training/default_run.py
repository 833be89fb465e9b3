"""`music-mood-train default`: train every candidate on every set, choose by validation, export.

Steps: load the five sets and their group-disjoint validation splits (written to the run folder),
gather the live excerpts (cached features + raw frame levels), train the candidates, score them on
each set's validation part from per-item means, export each to ONNX (checked against torch and the
numpy engine), copy the best to ``default.onnx`` and write ``report.md``, plots and timings.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from music_mood_core.features import EXTRACTOR_VERSION
from music_mood_core.model import load_model
from music_mood_core.model_contract import FORMAT_FEATURES, FORMAT_LOUDNESS
from numpy.typing import NDArray

from .config import GRUSettings
from .datasets import SET_NAMES, LabelledItem, load_set, validation_split, write_split
from .excerpt_data import DEFAULT_SET_WEIGHTS, ExcerptArrays, assemble
from .export import PARITY_TOLERANCE, ExportError, export_ensemble, model_metadata
from .gru import GRUEnsembleRegressor
from .gru_default import fit_gru_ensemble, predict_gru
from .mood_loss import DEFAULT_SIGN_MARGIN
from .quality import ItemPredictions, figures_markdown, goal_misses, selection_score, set_figures
from .stats_export import export_stats
from .stats_model import StatsEnsemble, StatsSettings
from .validation_plots import item_means, plot_validation

Predict = Callable[[NDArray[np.float32], NDArray[np.float32]], NDArray[np.float64]]
# Statistics candidates: name -> (loudness input, hidden widths). "wide" and "wider" double and
# quadruple both layers: the clip-level floor (scripts/bench_floor.py) is ahead of the narrow net on
# the same 4Q split, so capacity is one of the things validation chooses.
STATS_CANDIDATES: dict[str, tuple[str, tuple[int, int]]] = {
    "stats_relative": ("relative", (64, 32)),
    "stats_absolute": ("absolute", (64, 32)),
    "stats_none": ("none", (64, 32)),
    "stats_relative_wide": ("relative", (128, 64)),
    "stats_relative_wider": ("relative", (256, 128)),
}
CANDIDATES = (
    "gru",
    "stats_relative",
    "stats_absolute",
    "stats_relative_wide",
    "stats_relative_wider",
)
# A live input's gain is arbitrary (microphone, capture level): candidates are chosen by their
# figures at the file's own level and 12 dB below and above it. Features are normalised per
# excerpt, so a gain change moves only the raw frame levels.
GAIN_SHIFTS_DB = (-12.0, 0.0, 12.0)


@dataclass(frozen=True)
class DefaultSettings:
    seed: int = 0
    validation_fraction: float = 0.2
    set_weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_SET_WEIGHTS))
    sets: tuple[str, ...] = SET_NAMES
    candidates: tuple[str, ...] = CANDIDATES
    train_every_s: float = 1.0  # training excerpts: every other hop (neighbours overlap by 2.5 s)
    gru_every_s: float = 1.0
    gru_ensemble_size: int = 3
    gru_epochs: int = 4
    stats_ensemble_size: int = 5
    stats_epochs: int = 40
    margin: float = DEFAULT_SIGN_MARGIN
    # One thread: on a shared 2-core machine two torch threads spin-wait on each other and run
    # small-batch GRU training ~40x slower than one.
    threads: int = 1


@dataclass
class Candidate:
    name: str
    description: str
    path: Path
    figures: dict[str, dict[str, float]]
    score: float
    robust_score: float
    parity: dict[str, float]
    train_s: float


def _say(message: str) -> None:
    print(message, flush=True)


def load_splits(
    root: Path, dataset_cache: Path, settings: DefaultSettings, out: Path
) -> dict[str, tuple[list[LabelledItem], list[LabelledItem]]]:
    splits: dict[str, tuple[list[LabelledItem], list[LabelledItem]]] = {}
    for name in settings.sets:
        items = load_set(name, root, cache_dir=dataset_cache, report=lambda m: _say(f"  note: {m}"))
        train_ids, validation_ids = validation_split(
            items, seed=settings.seed, fraction=settings.validation_fraction
        )
        write_split(
            out / "splits" / f"{name}.json",
            items,
            train_ids,
            validation_ids,
            seed=settings.seed,
            fraction=settings.validation_fraction,
        )
        by_id = {item.item_id: item for item in items}
        splits[name] = ([by_id[i] for i in train_ids], [by_id[i] for i in validation_ids])
        _say(f"{name}: {len(train_ids)} train, {len(validation_ids)} validation items")
    return splits


def per_item(arrays: ExcerptArrays, predicted: NDArray[np.float64]) -> list[ItemPredictions]:
    return [
        ItemPredictions(key[1], predicted[rows], arrays.targets[rows].astype(np.float64))
        for key, rows in arrays.item_rows().items()
    ]


def evaluate(
    predict: Predict, validation: Mapping[str, ExcerptArrays]
) -> dict[str, dict[str, float]]:
    return {
        name: set_figures(name, per_item(arrays, predict(arrays.features, arrays.levels)))
        for name, arrays in validation.items()
    }


def gru_predictor(ensemble: GRUEnsembleRegressor) -> Predict:
    def run(features: NDArray[np.float32], _levels: NDArray[np.float32]) -> NDArray[np.float64]:
        return predict_gru(ensemble, features)

    return run


def gain_robust_score(predict: Predict, validation: Mapping[str, ExcerptArrays]) -> float:
    def shifted(shift: float) -> Predict:
        def run(features: NDArray[np.float32], levels: NDArray[np.float32]) -> NDArray[np.float64]:
            return predict(features, levels + np.float32(shift))

        return run

    scores = [selection_score(evaluate(shifted(s), validation)) for s in GAIN_SHIFTS_DB]
    return float(np.mean(scores))


def constant_prediction(train: ExcerptArrays) -> NDArray[np.float64]:
    """The weighted mean training label per axis (sign labels counted as ±1)."""
    values = []
    for axis in range(2):
        known = ~np.isnan(train.targets[:, axis])
        values.append(float(np.average(train.targets[known, axis], weights=train.weight[known])))
    return np.array(values)


def _training_data_text(
    splits: Mapping[str, tuple[list[LabelledItem], list[LabelledItem]]],
    set_weights: Mapping[str, float],
) -> str:
    trained = [n for n in splits if set_weights.get(n, 1.0) > 0]
    parts = [f"{name} {len(splits[name][0])} items" for name in trained]
    unused = [n for n in splits if n not in trained]
    return (
        "training parts of "
        + ", ".join(parts)
        + " (group-disjoint validation held out"
        + (f"; not trained on: {', '.join(unused)}" if unused else "")
        + ")"
    )


def _engine_parity(path: Path, features: NDArray[np.float32], levels: NDArray[np.float32]) -> float:
    """Largest |numpy engine - onnxruntime| of the integration's loader on the given excerpts."""
    numpy_model = load_model(path, engine="numpy")
    ort_model = load_model(path, engine="onnxruntime")
    difference = np.abs(numpy_model.predict(features, levels) - ort_model.predict(features, levels))
    return float(difference.max())


def _metadata(
    name: str,
    *,
    description: str,
    figures: dict[str, dict[str, float]],
    seeds: Sequence[int],
    training_data: str,
    model_format: str,
) -> dict[str, str]:
    metadata = model_metadata(
        description=f"{name}: {description}",
        training_data=training_data,
        scores={"validation": figures},
        seeds=seeds,
        extractor_version=EXTRACTOR_VERSION,
    )
    metadata["music_mood.format"] = model_format
    return metadata


def train_candidates(
    settings: DefaultSettings,
    splits: Mapping[str, tuple[list[LabelledItem], list[LabelledItem]]],
    excerpt_cache: Path,
    out: Path,
) -> tuple[
    list[Candidate], dict[str, dict[str, float]], NDArray[np.float64], dict[str, ExcerptArrays]
]:
    started = time.perf_counter()
    train_items = [
        item
        for name, (train_part, _) in splits.items()
        if settings.set_weights.get(name, 1.0) > 0
        for item in train_part
    ]
    train = assemble(
        train_items, excerpt_cache, every_s=settings.train_every_s, set_weights=settings.set_weights
    )
    # A set with weight 0 is not trained on, so every item of it (the held-out part excepted, which
    # the split never lists) can validate.
    validation = {
        name: assemble(
            [*train_part, *validation_part]
            if settings.set_weights.get(name, 1.0) == 0
            else validation_part,
            excerpt_cache,
        )
        for name, (train_part, validation_part) in splits.items()
        if validation_part or settings.set_weights.get(name, 1.0) == 0
    }
    _say(
        f"excerpts: {len(train)} for training, "
        + ", ".join(f"{n} {len(v)}" for n, v in validation.items())
        + f" for validation ({time.perf_counter() - started:.0f} s)"
    )
    check_set = next(iter(validation.values()))
    check_features = check_set.features[:64]
    check_levels = check_set.levels[:64]
    training_data = _training_data_text(splits, settings.set_weights)
    constant = constant_prediction(train)
    constant_figures = evaluate(lambda f, _levels: np.tile(constant, (len(f), 1)), validation)
    candidates: list[Candidate] = []
    out_dir = out / "candidates"
    for name in settings.candidates:
        begun = time.perf_counter()
        path = out_dir / f"{name}.onnx"
        if name == "gru":
            description = (
                f"study GRU ensemble ({settings.gru_ensemble_size} networks per target, "
                "hidden 30), features only"
            )
            gru_train = assemble(
                train_items,
                excerpt_cache,
                every_s=settings.gru_every_s,
                set_weights=settings.set_weights,
            )
            ensemble = fit_gru_ensemble(
                gru_train.features,
                gru_train.targets,
                gru_train.sign,
                gru_train.weight,
                settings=GRUSettings(epochs=settings.gru_epochs, batch_size=64),
                size=settings.gru_ensemble_size,
                seed=settings.seed,
                margin=settings.margin,
            )
            del gru_train

            figures = evaluate(gru_predictor(ensemble), validation)
            robust = selection_score(figures)  # no loudness input: the gain cannot matter
            seeds = [s for target_seeds in ensemble.seeds_.values() for s in target_seeds]
            metadata = _metadata(
                name,
                description=description,
                figures=figures,
                seeds=seeds,
                training_data=training_data,
                model_format=FORMAT_FEATURES,
            )
            torch_error = export_ensemble(ensemble, path, metadata, check_features)
        else:
            loudness, hidden = STATS_CANDIDATES[name]
            stats_settings = StatsSettings(
                hidden=hidden,
                ensemble_size=settings.stats_ensemble_size,
                epochs=settings.stats_epochs,
                margin=settings.margin,
                loudness=loudness,
            )
            description = (
                f"per-excerpt statistics MLP ({stats_settings.ensemble_size} seeds, hidden "
                f"{stats_settings.hidden}), loudness {loudness}"
            )
            stats = StatsEnsemble(stats_settings).fit(
                train.features,
                train.levels,
                train.targets,
                train.sign,
                train.weight,
                seed=settings.seed,
            )
            figures = evaluate(stats.predict, validation)
            robust = gain_robust_score(stats.predict, validation)
            model_format = FORMAT_FEATURES if loudness == "none" else FORMAT_LOUDNESS
            metadata = _metadata(
                name,
                description=description,
                figures=figures,
                seeds=stats.seeds,
                training_data=training_data,
                model_format=model_format,
            )
            torch_error = export_stats(stats, path, metadata, check_features, check_levels)
        engine_error = _engine_parity(path, check_features, check_levels)
        if not engine_error <= PARITY_TOLERANCE:
            raise ExportError(
                f"{name}: numpy engine differs from onnxruntime by {engine_error:.3g}"
            )
        candidate = Candidate(
            name=name,
            description=description,
            path=path,
            figures=figures,
            score=selection_score(figures),
            robust_score=robust,
            parity={"onnxruntime_vs_torch": torch_error, "numpy_vs_onnxruntime": engine_error},
            train_s=time.perf_counter() - begun,
        )
        candidates.append(candidate)
        _say(
            f"{name}: score {candidate.score:.3f}, over gains {candidate.robust_score:.3f}, "
            f"{candidate.train_s:.0f} s"
        )
    return candidates, constant_figures, constant, validation


def plot_chosen(
    path: Path, validation: Mapping[str, ExcerptArrays], picture: Path, title: str
) -> None:
    """The exported file itself (through the integration's loader) on every validation item."""
    model = load_model(path)
    per_set = {}
    for name, arrays in validation.items():
        predicted = np.concatenate(
            [
                np.asarray(model.predict(arrays.features[s : s + 512], arrays.levels[s : s + 512]))
                for s in range(0, len(arrays), 512)
            ]
        ).astype(np.float64)
        per_set[name] = item_means(arrays, predicted)
    plot_validation(per_set, picture, title)


def run_default(
    root: Path,
    out: Path,
    settings: DefaultSettings,
    *,
    dataset_cache: Path,
    excerpt_cache: Path,
) -> dict[str, object]:
    started = time.perf_counter()
    torch.set_num_threads(settings.threads)
    out.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    splits = load_splits(root, dataset_cache, settings, out)
    timings["load_s"] = time.perf_counter() - started
    candidates, constant_figures, constant, validation = train_candidates(
        settings, splits, excerpt_cache, out
    )
    timings["train_s"] = time.perf_counter() - started - timings["load_s"]
    best = max(candidates, key=lambda c: c.robust_score)
    shutil.copyfile(best.path, out / "default.onnx")
    plot_chosen(
        out / "default.onnx",
        validation,
        out / "validation.png",
        f"Validation items (never trained on): {best.name}, per-item means",
    )
    rows: dict[str, Mapping[str, Mapping[str, float]]] = {"constant": constant_figures}
    rows.update({c.name: c.figures for c in candidates})
    timings["total_s"] = time.perf_counter() - started
    summary: dict[str, object] = {
        "chosen": best.name,
        "settings": asdict(settings),
        "constant": constant.tolist(),
        "candidates": {
            c.name: {
                "description": c.description,
                "score": c.score,
                "robust_score": c.robust_score,
                "figures": c.figures,
                "parity": c.parity,
                "train_s": round(c.train_s, 1),
            }
            for c in candidates
        },
        "constant_figures": constant_figures,
        "timings_s": {k: round(v, 1) for k, v in timings.items()},
        "goal_misses": goal_misses(best.figures),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    report = [
        "# Default model: training run",
        "",
        f"Chosen: **{best.name}** ({best.description}). The choice is the highest mean of the "
        "validation headline figures (4Q and EMOPIA quadrant and sign accuracies, Emotify and "
        "VGMIDI Spearman), averaged over the file's own level and 12 dB below and above it, "
        "because a live input's gain is arbitrary.",
        "",
        "| candidate | score | score over gains | train s | parity ort-torch | parity numpy-ort |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    report += [
        f"| {c.name} | {c.score:.3f} | {c.robust_score:.3f} | {c.train_s:.0f} "
        f"| {c.parity['onnxruntime_vs_torch']:.1e} | {c.parity['numpy_vs_onnxruntime']:.1e} |"
        for c in candidates
    ]
    report += ["", figures_markdown(rows), "", "![Validation items](validation.png)", ""]
    misses = goal_misses(best.figures)
    # Only the goals with a floor are known here; "ahead of VibeNet" is scripts/bench_quality.py's.
    report.append(
        "Goals with a floor missed by the chosen model: "
        + ("; ".join(misses) if misses else "none")
        + " (against VibeNet: the side-by-side below)."
    )
    report.append(f"\nTotal run time {timings['total_s'] / 60:.1f} min.\n")
    (out / "report.md").write_text("\n".join(report), encoding="utf-8")
    return summary
