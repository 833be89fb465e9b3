"""The whole study: features, expected value, SVR, single networks, ensembles, Table 2, export."""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch
from music_mood_core.features import EXTRACTOR_VERSION

from .baselines import expected_value_variants
from .checkpoint import save_ensemble
from .config import TARGETS, StudySettings
from .dataset import DatasetError, EmoMusicDataset, Splits
from .evaluate import ModelResult, write_expected_value, write_tables
from .export import export_ensemble, model_metadata
from .features import Examples, FeatureExtractor, build_examples
from .gru import GRUEnsembleRegressor
from .plots import plot_song_curves, plot_va_scatter
from .table2 import RowOutcome, TrainingPart, run_row, table2_rows

Reporter = Callable[[str], None]


def report_to_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class StudyData:
    """Examples of each split, restricted to songs whose audio is present."""

    splits: Splits
    train: Examples
    development: Examples
    evaluation: Examples
    missing: dict[str, tuple[int, ...]]
    notes: list[str] = field(default_factory=list)

    def part(self, name: TrainingPart) -> Examples:
        return {"train": self.train, "development": self.development}[name]


def report_missing(
    dataset: EmoMusicDataset, splits: Splits, report: Reporter
) -> dict[str, tuple[int, ...]]:
    missing = {
        "train": dataset.missing_audio(splits.train),
        "validation": dataset.missing_audio(splits.validation),
        "evaluation": dataset.missing_audio(splits.evaluation),
    }
    total = sum(len(ids) for ids in missing.values())
    if total:

        def shown(ids: tuple[int, ...]) -> str:
            head = ", ".join(str(i) for i in ids[:20])
            return head + (f", ... ({len(ids) - 20} more)" if len(ids) > 20 else "")

        report(f"audio missing for {total} of {len(dataset.songs)} songs; they are skipped:")
        for name, ids in missing.items():
            if ids:
                report(f"  {name}: {len(ids)} missing: {shown(ids)}")
    return missing


def load_study_data(
    dataset: EmoMusicDataset,
    extractor: FeatureExtractor,
    validation_seed: int,
    report: Reporter = report_to_stderr,
    progress: bool = True,
) -> StudyData:
    splits = dataset.splits(seed=validation_seed)
    missing = report_missing(dataset, splits, report)
    train_ids = dataset.with_audio(splits.train)
    development_ids = dataset.with_audio(splits.development)
    evaluation_ids = dataset.with_audio(splits.evaluation)
    if not development_ids:
        raise DatasetError("no development song has audio: nothing to train on")
    if not evaluation_ids:
        raise DatasetError("no evaluation song has audio: nothing to evaluate on")
    songs = extractor.dataset_features(dataset, development_ids + evaluation_ids, progress)
    notes = []
    short = [i for i, s in songs.items() if s.n_valid < 61]
    if short:
        report(f"clips too short for their last label times (labels dropped): {short}")
        notes.append(f"label times beyond the clip end dropped for songs {short}")
    if not train_ids:
        # Tiny subsets can leave the 495-song training part without audio; the SVR then falls back.
        notes.append(
            "no training-split song has audio: the SVR is trained on all development songs"
        )
        report(notes[-1])
        train_ids = development_ids
    return StudyData(
        splits=splits,
        train=build_examples(dataset, songs, train_ids),
        development=build_examples(dataset, songs, development_ids),
        evaluation=build_examples(dataset, songs, evaluation_ids),
        missing=missing,
        notes=notes,
    )


def training_data_description(dataset: EmoMusicDataset, data: StudyData) -> str:
    dev_songs = sorted(set(data.development.song_ids.tolist()))
    eval_songs = sorted(set(data.evaluation.song_ids.tolist()))
    return (
        "1000 Songs for Emotional Analysis of Music (MediaEval 2013 release, "
        f"{dataset.root.name}): "
        f"trained on {len(dev_songs)} development songs with audio ({len(data.development)} "
        f"excerpts at label times 15-45 s), evaluated on {len(eval_songs)} evaluation songs "
        f"({len(data.evaluation)} excerpts); official development/evaluation split"
        + (
            f"; development songs {dev_songs}, evaluation songs {eval_songs}"
            if len(dev_songs) <= 20
            else ""
        )
    )


def run_study(
    dataset_dir: Path,
    out_dir: Path,
    settings: StudySettings,
    *,
    clip_dir: Path | None = None,
    cache_dir: Path | None = None,
    reference: bool = False,
    report: Reporter = report_to_stderr,
    progress: bool = True,
    model_description: str | None = None,
) -> dict[str, object]:
    """Run everything `train` does and write OUT (see docs/TRAINING.md for the layout)."""
    started = time.monotonic()
    torch.set_num_threads(settings.threads)
    dataset = EmoMusicDataset.load(dataset_dir, clip_dir)
    extractor = FeatureExtractor(cache_dir, reference=reference)
    data = load_study_data(dataset, extractor, settings.validation_seed, report, progress)
    out_dir.mkdir(parents=True, exist_ok=True)
    report(
        f"examples: train {len(data.train)}, development {len(data.development)}, "
        f"evaluation {len(data.evaluation)}"
    )
    write_expected_value(expected_value_variants(dataset, data.splits), out_dir)

    outcomes = [
        run_row(row, data.part(row.training_part), data.evaluation, report)
        for row in table2_rows(settings, progress=progress)
    ]
    results = [outcome.result for outcome in outcomes if outcome.result.runs]
    write_tables(results, out_dir, f"Table 2 reproduction on {dataset.root.name}")

    summary = study_summary(dataset, extractor.extractor_name, settings, data, results)
    exported = [o for o in outcomes if o.row.exported and o.first_model is not None]
    if exported:
        summary["export"] = export_first_run(
            exported[0],
            dataset=dataset,
            data=data,
            description=model_description or ensemble_description(settings),
            out_dir=out_dir,
            report=report,
        )
    summary["elapsed_s"] = round(time.monotonic() - started, 1)
    (out_dir / "run.json").write_text(json.dumps(summary, indent=2, default=str), encoding="utf-8")
    return summary


def study_summary(
    dataset: EmoMusicDataset,
    extractor_name: str,
    settings: StudySettings,
    data: StudyData,
    results: Sequence[ModelResult],
) -> dict[str, object]:
    """run.json without the export and the elapsed time."""
    return {
        "created": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "dataset": str(dataset.root),
        "extractor": extractor_name,
        "settings": dataclasses.asdict(settings),
        "songs": {
            "labelled": len(dataset.songs),
            "train": len(data.splits.train),
            "validation": len(data.splits.validation),
            "evaluation": len(data.splits.evaluation),
            "with_audio": {
                "train": len(set(data.train.song_ids.tolist())),
                "development": len(set(data.development.song_ids.tolist())),
                "evaluation": len(set(data.evaluation.song_ids.tolist())),
            },
            "missing_audio": {k: list(v) for k, v in data.missing.items()},
        },
        "examples": {
            "train": len(data.train),
            "development": len(data.development),
            "evaluation": len(data.evaluation),
        },
        "notes": data.notes,
        "results": {r.model: _result_summary(r) for r in results},
        "seeds": {r.model: r.seeds for r in results},
    }


def _result_summary(result: ModelResult) -> dict[str, object]:
    return {
        t: {
            m: dict(zip(("mean", "std"), result.mean_std(t, m), strict=True))
            for m in ("rmse", "pearson_r", "r2")
        }
        | {"n": len(result.runs)}
        for t in TARGETS
    }


def ensemble_description(settings: StudySettings) -> str:
    return (
        f"Parallel GRU ensemble ({settings.ensemble_size} networks per target, hidden "
        f"{settings.gru.hidden_size}, FC {settings.gru.fc_sizes}) reproducing the study "
        f"'Real-Time Music Emotion Recognition'"
    )


def export_first_run(
    outcome: RowOutcome,
    *,
    dataset: EmoMusicDataset,
    data: StudyData,
    description: str,
    out_dir: Path,
    report: Reporter,
) -> dict[str, object]:
    """Plots, model.onnx (checked against torch), ensemble.pt and predictions.csv of the row's
    first run; returns run.json's "export" entry."""
    shipped, predicted = outcome.first_model, outcome.first_predictions
    if not isinstance(shipped, GRUEnsembleRegressor) or predicted is None:
        raise TypeError(f"row {outcome.row.name!r} is exported but is not a GRU ensemble")
    _plots(data.evaluation, predicted, out_dir)
    first_run = outcome.result.runs[0]
    scores = {
        "evaluation": {
            t: {
                "rmse": round(first_run[t].rmse, 6),
                "pearson_r": round(first_run[t].pearson_r, 6),
                "r2": round(first_run[t].r2, 6),
            }
            for t in TARGETS
        },
        "evaluation_songs": len(set(data.evaluation.song_ids.tolist())),
        "evaluation_examples": len(data.evaluation),
    }
    seeds = [s for t in TARGETS for s in shipped.seeds_[t]]
    metadata = model_metadata(
        description=description,
        training_data=training_data_description(dataset, data),
        scores=scores,
        seeds=seeds,
        extractor_version=EXTRACTOR_VERSION,
    )
    check = data.evaluation.features[:256]
    error = export_ensemble(shipped, out_dir / "model.onnx", metadata, check)
    checkpoint_info = {k: v for k, v in metadata.items() if k != "music_mood.created"}
    save_ensemble(shipped, out_dir / "ensemble.pt", check, checkpoint_info)
    report(f"exported {out_dir / 'model.onnx'} (onnxruntime vs torch max |diff| {error:.2e})")
    _write_predictions(data.evaluation, predicted, out_dir / "predictions.csv")
    return {"path": "model.onnx", "parity_max_abs_diff": error, "seeds": seeds}


def _plots(examples: Examples, predicted: dict[str, np.ndarray], out_dir: Path) -> None:
    songs: Sequence[int] = sorted(set(examples.song_ids.tolist()))[:4]
    plot_song_curves(
        examples.song_ids,
        examples.times_s,
        predicted,
        examples.labels,
        songs=songs,
        path=out_dir / "plots" / "evaluation_curves.png",
    )
    plot_va_scatter(predicted, examples.labels, out_dir / "plots" / "va_scatter.png")


def _write_predictions(examples: Examples, predicted: dict[str, np.ndarray], path: Path) -> None:
    lines = [
        "song_id,time_s,valence_annotated,valence_predicted,arousal_annotated,arousal_predicted"
    ]
    for k in range(len(examples)):
        lines.append(
            f"{examples.song_ids[k]},{examples.times_s[k]:.1f},"
            f"{examples.labels['valence'][k]:.6f},{predicted['valence'][k]:.6f},"
            f"{examples.labels['arousal'][k]:.6f},{predicted['arousal'][k]:.6f}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
