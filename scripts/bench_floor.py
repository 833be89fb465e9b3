"""Calibrate the 4Q validation split with the clip-level floor (training/clip_floor.py).

The floor is an RBF SVM on whole-clip feature means and standard deviations plus the clip's RMS
level, trained on the 4Q training part of a `music-mood-train default` run and scored on its
group-disjoint validation part (the split the run wrote), at the files' own level and 12 dB below
and above it. Prints a table and writes RUN/floor.json (not a test: prints figures).

    python scripts/bench_floor.py --run runs/default [--data ../shared/data]
"""

# ruff: noqa: PLC0415

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "custom_components" / "music_mood"))

SET_NAME = "4q_panda"
GAINS_DB = (-12.0, 0.0, 12.0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", type=Path, default=REPO_ROOT / "runs" / "default")
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--c", type=float, default=1.0, help="SVM C (default 1)")
    args = parser.parse_args()

    from training.clip_floor import clip_set, fit_floor, floor_figures
    from training.datasets import data_root, default_cache_dir, load_set, read_split
    from training.default_command import default_excerpt_cache

    train_ids, validation_ids = read_split(args.run / "splits" / f"{SET_NAME}.json")
    items = {
        item.item_id: item
        for item in load_set(
            SET_NAME, data_root(args.data), cache_dir=default_cache_dir(), report=lambda _m: None
        )
    }
    train = clip_set([items[i] for i in train_ids], default_excerpt_cache())
    validation = clip_set([items[i] for i in validation_ids], default_excerpt_cache())
    rows: dict[str, dict[str, dict[str, float]]] = {}
    for with_level in (True, False):
        model = fit_floor(train, c=args.c, with_level=with_level)
        label = "clip SVM, features + level" if with_level else "clip SVM, features only"
        rows[label] = {
            f"{gain:+g} dB": floor_figures(model, validation, with_level=with_level, gain_db=gain)
            for gain in GAINS_DB
        }
    lines = [
        f"4Q floor on the run's split: {len(train_ids)} training clips, "
        f"{len(validation_ids)} validation clips (C = {args.c:g})",
        "",
        "| model | gain | quadrant | arousal sign | valence sign |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for label, by_gain in rows.items():
        for gain, figures in by_gain.items():
            lines.append(
                f"| {label} | {gain} | {figures['quadrant']:.3f} | {figures['arousal_sign']:.3f} "
                f"| {figures['valence_sign']:.3f} |"
            )
    print("\n".join(lines))
    (args.run / "floor.json").write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
