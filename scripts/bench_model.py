"""Benchmark the two model engines side by side (not a test: prints figures, asserts nothing).

Per-prediction latency for one (60, 68) excerpt, numpy engine vs onnxruntime, measured interleaved
in one run, plus the memory each engine adds when a model is loaded (each engine in a fresh
interpreter, so one engine's imports do not hide the other's). Goals: numpy <= 3 ms,
onnxruntime <= 0.5 ms per prediction on one core.

    taskset -c 0 python scripts/bench_model.py [model.onnx ...]

Without arguments it measures the test fixture ensemble and the bundled model if present.
"""

# Third-party and project imports are deferred on purpose: the thread settings below must precede
# numpy/onnxruntime, and the memory figures must include what importing each engine costs.
# ruff: noqa: PLC0415

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

# One core, one thread: set before numpy / onnxruntime load their thread pools.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "custom_components" / "music_mood"))
FIXTURE = REPO_ROOT / "tests" / "fixtures" / "models" / "ensemble.onnx"
GOALS_MS = {"numpy": 3.0, "onnxruntime": 0.5}


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return -1


def measure_memory(engine: str, model_path: Path) -> dict[str, Any]:
    """Run in a fresh interpreter: RSS and tracemalloc cost of importing and loading one engine."""
    rss_start = _rss_kib()
    import numpy as np
    from music_mood_core import model as model_module

    if engine == "onnxruntime":
        import onnxruntime  # noqa: F401
    rss_imported = _rss_kib()
    tracemalloc.start()
    loaded = model_module.load_model(model_path, engine=engine)  # type: ignore[arg-type]
    loaded.predict(np.zeros((60, 68), np.float32), np.full(60, -20.0, np.float32))
    _, peak = tracemalloc.get_traced_memory()
    retained, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_loaded = _rss_kib()
    return {
        "engine": loaded.engine,
        "import_rss_kib": rss_imported - rss_start,
        "load_rss_kib": rss_loaded - rss_imported,
        "tracemalloc_peak_kib": peak // 1024,
        "tracemalloc_retained_kib": retained // 1024,
    }


def measure_latency(
    model_path: Path, rounds: int, per_round: int
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Milliseconds per prediction: wall clock, and CPU time (insensitive to other processes)."""
    import numpy as np
    from music_mood_core.model import load_model

    models = {"numpy": load_model(model_path, engine="numpy")}
    try:
        models["onnxruntime"] = load_model(model_path, engine="onnxruntime")
    except ImportError:
        print("  onnxruntime not installed: numpy only")
    rng = np.random.default_rng(0)
    features = rng.standard_normal((60, 68)).astype(np.float32)
    # Format 2 models also take the raw frame levels (format 1 models ignore them).
    levels = rng.uniform(-40.0, -10.0, 60).astype(np.float32)
    for loaded in models.values():
        for _ in range(20):
            loaded.predict(features, levels)
    samples: dict[str, list[float]] = {name: [] for name in models}
    cpu_samples: dict[str, list[float]] = {name: [] for name in models}
    # Interleaved rounds: both engines see the same machine load.
    for _ in range(rounds):
        for name, loaded in models.items():
            start, cpu_start = time.perf_counter(), time.process_time()
            for _ in range(per_round):
                loaded.predict(features, levels)
            samples[name].append((time.perf_counter() - start) / per_round * 1000)
            cpu_samples[name].append((time.process_time() - cpu_start) / per_round * 1000)
    return samples, cpu_samples


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("models", nargs="*", type=Path)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--per-round", type=int, default=20)
    parser.add_argument(
        "--memory-child", nargs=2, metavar=("ENGINE", "MODEL"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.memory_child:
        print(json.dumps(measure_memory(args.memory_child[0], Path(args.memory_child[1]))))
        return

    from music_mood_core.model import BUNDLED_MODEL_PATH

    paths: list[Path] = args.models or [FIXTURE] + (
        [BUNDLED_MODEL_PATH] if BUNDLED_MODEL_PATH.is_file() else []
    )
    affinity = sorted(os.sched_getaffinity(0))
    print(
        f"CPU affinity {affinity}"
        + ("" if len(affinity) == 1 else "  (run under `taskset -c 0` to pin)")
    )
    for path in paths:
        print(f"\n{path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path}")
        samples, cpu_samples = measure_latency(path, args.rounds, args.per_round)
        medians = {name: _median(values) for name, values in samples.items()}
        cpu_medians = {name: _median(values) for name, values in cpu_samples.items()}
        for name, values in samples.items():
            goal = GOALS_MS[name]
            verdict = "meets" if cpu_medians[name] <= goal else "MISSES"
            print(
                f"  {name:<12} wall median {medians[name]:6.3f} ms (min {min(values):6.3f})  "
                f"CPU median {cpu_medians[name]:6.3f} ms  goal {goal} ms (CPU): {verdict}"
            )
        if len(medians) == 2:
            print(
                "  ratio numpy / onnxruntime: "
                f"wall {medians['numpy'] / medians['onnxruntime']:.1f}x, "
                f"CPU {cpu_medians['numpy'] / cpu_medians['onnxruntime']:.1f}x"
            )
        for engine in samples:
            child = subprocess.run(
                [sys.executable, __file__, "--memory-child", engine, str(path)],
                capture_output=True,
                text=True,
                check=True,
                env=os.environ.copy(),
            )
            memory = json.loads(child.stdout.strip().splitlines()[-1])
            print(
                f"  {engine:<12} memory: import +{memory['import_rss_kib'] / 1024:.1f} MiB RSS, "
                f"load +{memory['load_rss_kib'] / 1024:.1f} MiB RSS, "
                f"tracemalloc peak {memory['tracemalloc_peak_kib'] / 1024:.1f} MiB "
                f"(retained {memory['tracemalloc_retained_kib'] / 1024:.1f} MiB)"
            )


if __name__ == "__main__":
    main()
