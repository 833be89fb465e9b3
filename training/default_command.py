"""`music-mood-train default`: the command line of training/default_run.py."""

from __future__ import annotations

import argparse
from pathlib import Path

from .datasets.root import add_data_root_argument
from .excerpt_data import DEFAULT_SET_WEIGHTS

SET_WEIGHT_HELP = (
    "NAME=WEIGHT, repeatable: how much a set pulls in training relative to the others (each set's "
    "excerpt weights sum to its weight, so a big set does not dominate). Defaults: "
    + ", ".join(f"{k}={v:g}" for k, v in DEFAULT_SET_WEIGHTS.items())
)


def default_excerpt_cache() -> Path:
    return Path.home() / ".cache" / "music_mood" / "excerpts"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_data_root_argument(parser)
    parser.add_argument("--out", type=Path, required=True, help="run folder (model, report, plots)")
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of splits and networks (default 0)"
    )
    parser.add_argument(
        "--set-weight", action="append", default=[], metavar="NAME=WEIGHT", help=SET_WEIGHT_HELP
    )
    parser.add_argument(
        "--candidates",
        default=None,
        help=(
            "comma-separated subset of gru, stats_relative, stats_absolute, stats_none, "
            "stats_relative_wide, stats_relative_wider (default: all but stats_none)"
        ),
    )
    parser.add_argument(
        "--sets", default=None, help="comma-separated subset of the sets (default: all five)"
    )
    parser.add_argument("--gru-epochs", type=int, default=4)
    parser.add_argument("--gru-ensemble-size", type=int, default=3)
    parser.add_argument("--stats-epochs", type=int, default=40)
    parser.add_argument("--stats-ensemble-size", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument(
        "--excerpt-cache", type=Path, default=None, help="cache of excerpt features"
    )
    parser.add_argument("--dataset-cache", type=Path, default=None, help="cache of MIDI renders")


def parse_set_weights(values: list[str]) -> dict[str, float]:
    weights = dict(DEFAULT_SET_WEIGHTS)
    for value in values:
        name, _, number = value.partition("=")
        if name not in DEFAULT_SET_WEIGHTS:
            raise ValueError(f"--set-weight {value!r}: unknown set {name!r}")
        try:
            weight = float(number)
        except ValueError:
            raise ValueError(f"--set-weight {value!r}: {number!r} is not a number") from None
        if not weight >= 0:
            raise ValueError(f"--set-weight {value!r}: the weight must be >= 0")
        weights[name] = weight
    return weights


def run(args: argparse.Namespace) -> None:
    # torch loads only for this command.
    from .datasets import SET_NAMES, data_root, default_cache_dir  # noqa: PLC0415
    from .default_run import (  # noqa: PLC0415
        CANDIDATES,
        STATS_CANDIDATES,
        DefaultSettings,
        run_default,
    )

    known = ("gru", *STATS_CANDIDATES)
    candidates = tuple(args.candidates.split(",")) if args.candidates else CANDIDATES
    unknown = [c for c in candidates if c not in known]
    if unknown:
        raise ValueError(f"--candidates: unknown {', '.join(unknown)} (known: {', '.join(known)})")
    if args.sets and any(s not in SET_NAMES for s in args.sets.split(",")):
        raise ValueError(f"--sets: known sets are {', '.join(SET_NAMES)}")
    for name in (
        "gru_epochs",
        "gru_ensemble_size",
        "stats_epochs",
        "stats_ensemble_size",
        "threads",
    ):
        if getattr(args, name) <= 0:
            raise ValueError(f"--{name.replace('_', '-')} must be positive")
    settings = DefaultSettings(
        seed=args.seed,
        set_weights=parse_set_weights(args.set_weight),
        candidates=candidates,
        sets=tuple(args.sets.split(",")) if args.sets else SET_NAMES,
        gru_epochs=args.gru_epochs,
        gru_ensemble_size=args.gru_ensemble_size,
        stats_epochs=args.stats_epochs,
        stats_ensemble_size=args.stats_ensemble_size,
        threads=args.threads,
    )
    summary = run_default(
        data_root(args.data),
        args.out,
        settings,
        dataset_cache=args.dataset_cache or default_cache_dir(),
        excerpt_cache=args.excerpt_cache or default_excerpt_cache(),
    )
    print((args.out / "report.md").read_text(encoding="utf-8"))
    print(f"chose {summary['chosen']}; wrote {args.out / 'default.onnx'}")
