"""Table 2: RMSE (plus Pearson r and R²) per target, mean ± std over runs, as Markdown and CSV."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from .baselines import ExpectedValueVariant

TABLE_TARGETS = ("arousal", "valence")  # the study's column order


@dataclass(frozen=True)
class Scores:
    rmse: float
    pearson_r: float
    r2: float


def score(predicted: NDArray[np.floating], annotated: NDArray[np.floating]) -> Scores:
    """Pooled over every evaluation example (song x label time), as Table 2's expected-value row."""
    p = np.asarray(predicted, dtype=np.float64)
    a = np.asarray(annotated, dtype=np.float64)
    residual = float(np.sum((p - a) ** 2))
    spread = float(np.sum((a - a.mean()) ** 2))
    # r is undefined for a constant prediction (the expected value); report NaN rather than guess.
    r = float(np.corrcoef(p, a)[0, 1]) if np.ptp(p) > 0 and np.ptp(a) > 0 else float("nan")
    return Scores(
        rmse=float(np.sqrt(residual / len(a))),
        pearson_r=r,
        r2=1.0 - residual / spread if spread > 0 else float("nan"),
    )


@dataclass
class ModelResult:
    """All runs of one row of the table."""

    model: str
    runs: list[dict[str, Scores]] = field(default_factory=list)
    seeds: list[int] = field(default_factory=list)

    def add(self, scores: dict[str, Scores], seed: int) -> None:
        self.runs.append(scores)
        self.seeds.append(seed)

    def values(self, target: str, metric: str) -> NDArray[np.float64]:
        return np.array([getattr(run[target], metric) for run in self.runs], dtype=np.float64)

    def mean_std(self, target: str, metric: str) -> tuple[float, float]:
        values = self.values(target, metric)
        # Population std over runs; a single run has no spread.
        return float(np.mean(values)), float(np.std(values)) if len(values) > 1 else 0.0


def _cell(mean: float, std: float, n: int) -> str:
    if np.isnan(mean):
        return "n/a"
    return f"{mean:.4f} ± {std:.4f}" if n > 1 else f"{mean:.4f}"


def markdown_table(results: Sequence[ModelResult], metric: str = "rmse") -> str:
    header = "| Model | Arousal | Valence | N |\n| --- | --- | --- | --- |\n"
    rows = [
        f"| {r.model} | "
        + " | ".join(_cell(*r.mean_std(t, metric), len(r.runs)) for t in TABLE_TARGETS)
        + f" | {len(r.runs)} |"
        for r in results
    ]
    return header + "\n".join(rows) + "\n"


def write_tables(results: Sequence[ModelResult], out_dir: Path, heading: str) -> None:
    """results.md (RMSE, r, R²), results.csv (summary) and runs.csv (every run)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    parts = [f"# {heading}\n"]
    for metric, title in (("rmse", "RMSE"), ("pearson_r", "Pearson r"), ("r2", "R²")):
        parts.append(f"\n## {title} on the evaluation set (mean ± std over N runs)\n\n")
        parts.append(markdown_table(results, metric))
    (out_dir / "results.md").write_text("".join(parts), encoding="utf-8")

    with (out_dir / "results.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["model", "target", "metric", "mean", "std", "n"])
        for result in results:
            for target in TABLE_TARGETS:
                for metric in ("rmse", "pearson_r", "r2"):
                    mean, std = result.mean_std(target, metric)
                    writer.writerow(
                        [
                            result.model,
                            target,
                            metric,
                            f"{mean:.6f}",
                            f"{std:.6f}",
                            len(result.runs),
                        ]
                    )
    with (out_dir / "runs.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["model", "run", "seed", "target", "rmse", "pearson_r", "r2"])
        for result in results:
            for k, (run, seed) in enumerate(zip(result.runs, result.seeds, strict=True)):
                for target in TABLE_TARGETS:
                    s = run[target]
                    writer.writerow(
                        [
                            result.model,
                            k,
                            seed,
                            target,
                            f"{s.rmse:.6f}",
                            f"{s.pearson_r:.6f}",
                            f"{s.r2:.6f}",
                        ]
                    )


STUDY_EXPECTED_VALUE = {"arousal": 0.2870, "valence": 0.2315}


def expected_value_markdown(variants: Sequence[ExpectedValueVariant]) -> str:
    lines = [
        "| Variant | Arousal | Valence | Matches Table 2 (A 0.2870, V 0.2315) |",
        "| --- | --- | --- | --- |",
    ]
    for v in variants:
        match = [t for t in TABLE_TARGETS if round(v.rmse[t], 4) == STUDY_EXPECTED_VALUE[t]]
        verdict = "both" if len(match) == 2 else (match[0] if match else "neither")
        lines.append(
            f"| {v.name} | {v.rmse['arousal']:.4f} | {v.rmse['valence']:.4f} | {verdict} |"
        )
    return "\n".join(lines) + "\n"


def write_expected_value(variants: Sequence[ExpectedValueVariant], out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "expected_value.md").write_text(
        "# Expected-value baseline, label-only, on the 125 evaluation songs\n\n"
        + expected_value_markdown(variants),
        encoding="utf-8",
    )
    with (out_dir / "expected_value.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["variant", "training_songs", "aggregation", "rmse_arousal", "rmse_valence"]
        )
        for v in variants:
            writer.writerow(
                [
                    v.name,
                    v.training_songs,
                    v.aggregation,
                    f"{v.rmse['arousal']:.6f}",
                    f"{v.rmse['valence']:.6f}",
                ]
            )
