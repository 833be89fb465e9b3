"""`music-mood-train` (also `python -m training`): baseline, extract, train, export, predict."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from music_mood_core.audio import AudioDecodeError
from music_mood_core.model import ModelError

from . import default_command
from .config import VALIDATION_SEED, GRUSettings, StudySettings
from .dataset import DatasetError, EmoMusicDataset
from .datasets import DataRootMissing, data_root
from .datasets import summary as datasets_summary
from .datasets.root import add_data_root_argument
from .predict import DEFAULT_MODEL, open_model, predict_file, write_timeline

# torch, scikit-learn and matplotlib load inside the commands that use them: `predict` (and --help)
# stay light enough for a machine without them.

EXIT_USER_ERROR = 2


class UserError(Exception):
    """A mistake in the command line or its inputs: shown as one line, exit code 2."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="music-mood-train",
        description="Reproduce the music emotion study and export ONNX models for Music Mood.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    def dataset_args(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--dataset",
            type=Path,
            default=None,
            help="1000 Songs dataset folder (default: emomusic_2013 in the data root)",
        )
        add_data_root_argument(p)
        p.add_argument(
            "--clips",
            type=Path,
            default=None,
            help="folder of <song_id>.mp3 (default: DATASET/clips_45seconds, clips_45s or clips)",
        )

    def feature_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("--cache-dir", type=Path, default=None, help="feature cache folder")
        p.add_argument(
            "--reference",
            action="store_true",
            help="extract with pyAudioAnalysis itself instead of the shared extractor",
        )

    baseline = commands.add_parser("baseline", help="expected-value row from the labels only")
    dataset_args(baseline)
    baseline.add_argument("--out", type=Path, default=None, help="also write Markdown and CSV here")
    baseline.add_argument("--validation-seed", type=int, default=VALIDATION_SEED)

    extract = commands.add_parser("extract", help="extract and cache features of every clip")
    dataset_args(extract)
    feature_args(extract)

    train = commands.add_parser("train", help="the full study: Table 2, plots and model.onnx")
    dataset_args(train)
    feature_args(train)
    train.add_argument("--out", type=Path, required=True, help="output folder")
    train.add_argument("--runs", type=int, default=10, help="single-network runs (default 10)")
    train.add_argument("--ensemble-runs", type=int, default=5, help="ensemble runs (default 5)")
    train.add_argument("--ensemble-size", type=int, default=5)
    train.add_argument("--epochs", type=int, default=5)
    train.add_argument("--seed", type=int, default=0, help="base seed of the networks")
    train.add_argument("--validation-seed", type=int, default=VALIDATION_SEED)
    train.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    train.add_argument("--description", default=None, help="model description metadata")
    train.add_argument("--quiet", action="store_true", help="no progress bars")

    export = commands.add_parser("export", help="re-export OUT/ensemble.pt as ONNX")
    export.add_argument("--checkpoint", type=Path, required=True, help="ensemble.pt from `train`")
    export.add_argument("--output", type=Path, required=True, help="ONNX file to write")

    predict = commands.add_parser("predict", help="valence/arousal timeline of an audio file")
    predict.add_argument("audio", type=Path)
    predict.add_argument(
        "--model",
        type=Path,
        default=DEFAULT_MODEL,
        help="ONNX model file (default: the integration's bundled model)",
    )
    predict.add_argument("--output", type=Path, default=None, help=".csv or .json (default stdout)")
    predict.add_argument("--plot", type=Path, default=None, help="PNG of the timeline")
    predict.add_argument(
        "--onnxruntime",
        action="store_true",
        help="insist on the onnxruntime engine (default: onnxruntime if installed, else numpy)",
    )

    datasets = commands.add_parser(
        "datasets", help="what each labelled set holds and its validation split"
    )
    datasets_summary.add_arguments(datasets)

    default = commands.add_parser(
        "default", help="train the default model on every labelled set, choose by validation"
    )
    default_command.add_arguments(default)
    return parser


def _positive(name: str, value: int, allow_zero: bool = False) -> None:
    if value < 0 or (value == 0 and not allow_zero):
        raise UserError(f"--{name} must be {'>= 0' if allow_zero else 'positive'} (got {value})")


def _baseline(args: argparse.Namespace) -> None:
    from .baselines import expected_value_variants  # noqa: PLC0415
    from .evaluate import expected_value_markdown, write_expected_value  # noqa: PLC0415

    dataset = EmoMusicDataset.load(args.dataset, args.clips)
    splits = dataset.splits(seed=args.validation_seed)
    variants = expected_value_variants(dataset, splits)
    print(
        f"{len(dataset.songs)} songs: train {len(splits.train)}, validation "
        f"{len(splits.validation)}, evaluation {len(splits.evaluation)} "
        f"(validation seed {args.validation_seed})"
    )
    print(expected_value_markdown(variants), end="")
    if args.out is not None:
        write_expected_value(variants, args.out)


def _extract(args: argparse.Namespace) -> None:
    from .features import FeatureExtractor  # noqa: PLC0415
    from .study import report_missing  # noqa: PLC0415

    dataset = EmoMusicDataset.load(args.dataset, args.clips)
    report_missing(dataset, dataset.splits(), lambda m: print(m, file=sys.stderr))
    extractor = FeatureExtractor(args.cache_dir, reference=args.reference)
    present = dataset.with_audio(dataset.song_ids)
    songs = extractor.dataset_features(dataset, present)
    excerpts = sum(s.n_valid for s in songs.values())
    print(f"{len(songs)} songs, {excerpts} excerpts cached in {extractor.cache_dir}")


def _train(args: argparse.Namespace) -> None:
    from .study import run_study  # noqa: PLC0415

    for name in ("runs", "ensemble_runs"):
        _positive(name.replace("_", "-"), getattr(args, name), allow_zero=True)
    for name in ("ensemble_size", "epochs", "threads"):
        _positive(name.replace("_", "-"), getattr(args, name))
    settings = StudySettings(
        runs=args.runs,
        ensemble_runs=args.ensemble_runs,
        ensemble_size=args.ensemble_size,
        seed=args.seed,
        validation_seed=args.validation_seed,
        threads=args.threads,
        gru=GRUSettings(epochs=args.epochs),
    )
    summary = run_study(
        args.dataset,
        args.out,
        settings,
        clip_dir=args.clips,
        cache_dir=args.cache_dir,
        reference=args.reference,
        progress=not args.quiet,
        model_description=args.description,
    )
    print((args.out / "results.md").read_text(encoding="utf-8"))
    print(f"done in {summary['elapsed_s']} s; outputs in {args.out}")


def _export(args: argparse.Namespace) -> None:
    from .checkpoint import load_ensemble  # noqa: PLC0415
    from .export import export_ensemble, model_metadata  # noqa: PLC0415

    if not args.checkpoint.is_file():
        raise UserError(f"checkpoint not found: {args.checkpoint}")
    ensemble, check, info = load_ensemble(args.checkpoint)
    metadata = model_metadata(
        description=info["music_mood.description"],
        training_data=info["music_mood.training_data"],
        scores=json.loads(info["music_mood.scores"]),
        seeds=json.loads(info["music_mood.seeds"]),
        extractor_version=info["music_mood.feature_extractor_version"],
    )
    error = export_ensemble(ensemble, args.output, metadata, check)
    print(f"wrote {args.output} (onnxruntime vs torch max |diff| {error:.2e})")


def _predict(args: argparse.Namespace) -> None:

    if not args.model.is_file():
        raise UserError(f"model not found: {args.model}")
    if not args.audio.is_file():
        raise UserError(f"audio file not found: {args.audio}")
    try:
        model = open_model(args.model, onnxruntime=args.onnxruntime)
    except ImportError as error:
        raise UserError(f"--onnxruntime: {error}") from error
    try:
        timeline = predict_file(args.audio, model)
    finally:
        model.close()
    if not len(timeline):
        excerpt_s = model.info.sequence_length * model.info.step_s
        raise UserError(f"{args.audio} is shorter than one {excerpt_s:g} s excerpt")
    text = write_timeline(timeline, args.output)
    if args.output is None:
        print(text, end="")
    if args.plot is not None:
        from .plots import plot_timeline  # noqa: PLC0415

        plot_timeline(
            timeline.times_s,
            timeline.valence.astype(np.float64),
            timeline.arousal.astype(np.float64),
            args.plot,
            args.audio.name,
        )


def _default(args: argparse.Namespace) -> None:
    try:
        default_command.run(args)
    except ValueError as error:
        raise UserError(str(error)) from error


COMMANDS = {
    "baseline": _baseline,
    "extract": _extract,
    "train": _train,
    "export": _export,
    "predict": _predict,
    "datasets": datasets_summary.run,
    "default": _default,
}


def main(argv: Sequence[str] | None = None) -> int:

    args = _parser().parse_args(argv)
    try:
        if "dataset" in args and args.dataset is None:
            args.dataset = data_root(args.data) / "emomusic_2013"
        COMMANDS[args.command](args)
    except (UserError, DatasetError, DataRootMissing, AudioDecodeError, ModelError) as error:
        print(f"music-mood-train: error: {error}", file=sys.stderr)
        return EXIT_USER_ERROR
    return 0


if __name__ == "__main__":
    sys.exit(main())
