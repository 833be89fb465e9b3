"""`music-mood-train datasets`: what each labelled set holds and how it splits (Markdown table)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from . import (
    SET_NAMES,
    DatasetError,
    SetLoad,
    data_root,
    default_cache_dir,
    scan_set,
    validation_split,
    write_split,
)
from .items import CONTINUOUS
from .root import add_data_root_argument

SHOWN_PROBLEMS = 5
LABEL_TYPES = {
    "emomusic_2013": "valence/arousal every 0.5 s (raters' mean)",
    "4q_panda": "quadrant -> signs; PQuad confidence",
    "emotify": "GEMS-9 -> valence/arousal (raters' mean)",
    "vgmidi": "valence/arousal per bar (raters' mean)",
    "emopia": "quadrant -> signs",
}


@dataclass(frozen=True)
class SetSummary:
    name: str
    items: int
    groups: int
    audio_s: float
    label_type: str
    excerpts: int
    validation_items: int
    validation_groups: int
    problems: int


def summarise(loaded: SetLoad, validation: Sequence[str]) -> SetSummary:
    items = loaded.items
    by_id = {item.item_id: item for item in items}
    kind = {item.target_kind for item in items}
    return SetSummary(
        name=loaded.name,
        items=len(items),
        groups=len({item.group for item in items}),
        audio_s=sum(item.duration_s for item in items),
        label_type=LABEL_TYPES.get(loaded.name, "/".join(sorted(kind)) or CONTINUOUS),
        excerpts=sum(item.n_excerpts for item in items),
        validation_items=len(validation),
        validation_groups=len({by_id[i].group for i in validation}),
        problems=len(loaded.problems),
    )


def table(summaries: Sequence[SetSummary]) -> str:
    lines = [
        "| set | items | groups | seconds of audio | label type | excerpts "
        "| validation items (groups) | problems |",
        "| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: |",
    ]
    for s in summaries:
        lines.append(
            f"| {s.name} | {s.items} | {s.groups} | {s.audio_s:.0f} | {s.label_type} "
            f"| {s.excerpts} | "
            f"{s.validation_items} ({s.validation_groups}) | {s.problems} |"
        )
    return "\n".join(lines) + "\n"


def problem_lines(loaded: SetLoad, show_all: bool) -> list[str]:
    if not loaded.problems:
        return []
    shown = loaded.problems if show_all else loaded.problems[:SHOWN_PROBLEMS]
    lines = [f"{loaded.name}: {len(loaded.problems)} problem(s)"]
    lines += [f"  {problem}" for problem in shown]
    if len(shown) < len(loaded.problems):
        lines.append(f"  ... {len(loaded.problems) - len(shown)} more (--all-problems lists them)")
    return lines


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_data_root_argument(parser)
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help="MIDI renders and durations (default: ~/.cache/music_mood/datasets)",
    )
    parser.add_argument(
        "--sets", nargs="+", choices=SET_NAMES, default=list(SET_NAMES), help="sets to load"
    )
    parser.add_argument("--seed", type=int, default=0, help="validation split seed")
    parser.add_argument("--fraction", type=float, default=0.2, help="validation share of the items")
    parser.add_argument(
        "--all-problems", action="store_true", help="list every problem, not the first few"
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="also write each split as OUT/split_<set>.json"
    )


def run(args: argparse.Namespace, say: Callable[[str], None] = print) -> None:
    if not 0.0 < args.fraction < 1.0:
        raise DatasetError(f"--fraction must be between 0 and 1 (got {args.fraction})")
    root = data_root(args.data)
    cache_dir = args.cache_dir if args.cache_dir is not None else default_cache_dir()
    summaries = []
    for name in args.sets:
        loaded = scan_set(name, root, cache_dir=cache_dir)
        for line in problem_lines(loaded, args.all_problems):
            print(line, file=sys.stderr)
        train, validation = validation_split(loaded.items, seed=args.seed, fraction=args.fraction)
        if args.out is not None:
            write_split(
                args.out / f"split_{name}.json",
                loaded.items,
                train,
                validation,
                seed=args.seed,
                fraction=args.fraction,
            )
        summaries.append(summarise(loaded, validation))
    say(f"data root {root}; validation seed {args.seed}, fraction {args.fraction} (group-disjoint)")
    say(table(summaries))
