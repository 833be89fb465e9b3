"""Feature-extraction speed, ours against pyAudioAnalysis 0.3.14, measured side by side in one run.

Not a test: prints seconds of audio processed per second of CPU wall time and the ratios.
Run pinned to one core for a fair "x real time on one core" figure, e.g.

    taskset -c 0 python scripts/bench_features.py

Goals: offline >= 20x faster than pyAudioAnalysis, >= 1000x real time at 22050 Hz.

``--normalisation-effect`` instead measures what normalisation policy "excerpt" changes compared
with pyAudioAnalysis's whole-clip normalisation, on the same frames of the 10 real 45 s clips.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "custom_components" / "music_mood"))
sys.path.insert(0, str(REPO_ROOT))

from music_mood_core.audio import decode_file  # noqa: E402
from music_mood_core.features import (  # noqa: E402
    FEATURE_NAMES,
    ExcerptStream,
    FrameGrid,
    StreamingFeatureExtractor,
    excerpt_bounds,
    excerpt_features,
    extract_features,
    extract_features_with_normalisation,
    label_excerpt_features,
    whole_signal_normalisation,
)
from music_mood_core.model_contract import DEFAULT_SAMPLE_RATE  # noqa: E402

from training.datasets.root import DataRootMissing, data_path  # noqa: E402

# Real music from the data root (--data, $MUSIC_MOOD_DATA or ../shared/data).
CLIPS = (
    ("emomusic_2013", "clips_45s", "2.mp3"),
    ("emomusic_2013", "clips_45s", "3.mp3"),
    ("emomusic_2013", "clips_45s", "13.mp3"),
    ("librosa_data_cc", "Kevin_MacLeod_-_Vibe_Ace.ogg"),
)
# ffmpeg writes PCM to its pipe in 4096-byte pieces: 2048 int16 samples per live read.
LIVE_CHUNK_SAMPLES = 2048
LABEL_TIMES = np.arange(15.0, 45.01, 0.5)  # the dataset's 61 label times per 45 s song
REFERENCE = "pyAudioAnalysis 0.3.14 feature_extraction"
REFERENCE_LABELS = "pyAudioAnalysis on each label excerpt"
OURS_LABELS = "ours label_excerpt_features"


def best_seconds(methods: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Best wall time of each method; rounds interleave the methods so load swings hit all alike."""
    best = dict.fromkeys(methods, float("inf"))
    for _ in range(repeats):
        for name, run in methods.items():
            start = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def chunks_of(samples: NDArray[np.int16], size: int) -> list[NDArray[np.int16]]:
    return [samples[i : i + size] for i in range(0, samples.size, size)]


def normalisation_effect(sample_rate: int, data: Path | None) -> None:
    """Excerpt vs whole-clip normalisation of the very same frames, per feature."""
    grid = FrameGrid.from_seconds(sample_rate)
    clip_dir = data_path("emomusic_2013", "clips_45s", option=data)
    by_excerpt, by_clip, gains = [], [], []
    for path in sorted(clip_dir.glob("*.mp3")):
        song = decode_file(path, sample_rate)
        dc, peak = whole_signal_normalisation(song)
        for time_s in LABEL_TIMES:
            start, end = excerpt_bounds(float(time_s), sample_rate, grid)
            excerpt = song[start:end]
            by_excerpt.append(excerpt_features(excerpt, grid))
            by_clip.append(extract_features_with_normalisation(excerpt, grid, dc, peak))
            gains.append(peak / whole_signal_normalisation(excerpt)[1])
    ours = np.concatenate(by_excerpt)
    whole = np.concatenate(by_clip)
    spread = whole.std(axis=0)
    in_stds = np.abs(ours - whole) / np.where(spread > 0, spread, 1.0)
    relative = np.abs(ours - whole) / np.maximum(np.abs(whole), 1e-12)
    print(f"{len(by_excerpt)} excerpts ({ours.shape[0]} frames) of 10 clips at {sample_rate} Hz")
    print(
        "gain of excerpt over whole-clip normalisation (whole peak / excerpt peak): "
        f"median {np.median(gains):.3f}, range {min(gains):.3f}..{max(gains):.3f}"
    )
    print(f"{'feature':26s} {'median rel':>11s} {'p95 rel':>9s} {'mean |d|/std':>13s} {'p95':>7s}")
    for index, name in enumerate(FEATURE_NAMES):
        print(
            f"{name:26s} {np.median(relative[:, index]):11.2e} "
            f"{np.percentile(relative[:, index], 95):9.2e} "
            f"{in_stds[:, index].mean():13.3f} {np.percentile(in_stds[:, index], 95):7.3f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample-rate", type=int, default=DEFAULT_SAMPLE_RATE)
    parser.add_argument("--repeats", type=int, default=3, help="best of N runs for every method")
    parser.add_argument("--normalisation-effect", action="store_true")
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help="data root (default $MUSIC_MOOD_DATA or ../shared/data)",
    )
    args = parser.parse_args()
    sample_rate: int = args.sample_rate
    repeats: int = args.repeats
    if args.normalisation_effect:
        normalisation_effect(sample_rate, args.data)
        return
    grid = FrameGrid.from_seconds(sample_rate)

    clips = [decode_file(data_path(*parts, option=args.data), sample_rate) for parts in CLIPS]
    audio_s = sum(clip.size for clip in clips) / sample_rate
    extract_features(clips[0][: 5 * sample_rate], sample_rate)  # build the constant tables once

    def offline() -> None:
        for clip in clips:
            extract_features(clip, sample_rate)

    def frame_streaming(chunk_samples: int) -> Callable[[], None]:
        def run() -> None:
            for clip in clips:
                extractor = StreamingFeatureExtractor(grid, *whole_signal_normalisation(clip))
                for chunk in chunks_of(clip, chunk_samples):
                    extractor.push(chunk)

        return run

    def excerpt_streaming() -> None:
        for clip in clips:
            stream = ExcerptStream(grid)
            for chunk in chunks_of(clip, LIVE_CHUNK_SAMPLES):
                stream.push(chunk)

    song = clips[0]
    hop = round(0.5 * sample_rate)
    methods: dict[str, Callable[[], object]] = {}
    try:
        from pyAudioAnalysis import ShortTermFeatures  # noqa: PLC0415 - optional reference
    except ImportError:
        print("pyAudioAnalysis is not installed: ratios against it are skipped")
        has_reference = False
    else:
        has_reference = True

        def reference() -> None:
            for clip in clips:
                ShortTermFeatures.feature_extraction(clip, sample_rate, grid.window, grid.step)

        def reference_labels() -> None:
            for time_s in LABEL_TIMES:
                start, end = excerpt_bounds(float(time_s), sample_rate, grid)
                ShortTermFeatures.feature_extraction(
                    song[start:end], sample_rate, grid.window, grid.step
                )

        methods[REFERENCE] = reference
        methods[REFERENCE_LABELS] = reference_labels
    methods.update(
        {
            "ours offline (extract_features)": offline,
            f"ours StreamingFeatureExtractor ({LIVE_CHUNK_SAMPLES}-sample chunks)": (
                frame_streaming(LIVE_CHUNK_SAMPLES)
            ),
            f"ours StreamingFeatureExtractor ({hop}-sample chunks)": frame_streaming(hop),
            "ours ExcerptStream as live (60x68 every 0.5 s)": excerpt_streaming,
            OURS_LABELS: lambda: label_excerpt_features(song, grid, LABEL_TIMES),
        }
    )
    timings = best_seconds(methods, repeats)
    label_s = timings.pop(OURS_LABELS)
    reference_label_s = timings.pop(REFERENCE_LABELS, None)
    reference_s = timings.get(REFERENCE) if has_reference else None

    affinity = sorted(os.sched_getaffinity(0))
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"audio: {len(clips)} real clips, {audio_s:.1f} s at {sample_rate} Hz; best of {repeats}")
    print(f"CPUs allowed: {affinity}; load average (1/5/15 min): {load} (shared machine)")
    print()
    print(f"{'method':54s} {'audio s/s':>10s} {'x real time':>12s} {'vs pyAA':>8s}")
    for name, seconds in timings.items():
        ratio = f"{reference_s / seconds:7.1f}x" if reference_s is not None else "     n/a"
        speed = audio_s / seconds
        print(f"{name:54s} {speed:10.0f} {speed:11.0f}x {ratio}")
    print()
    print(f"training labels: {LABEL_TIMES.size} excerpts of {grid.excerpt_samples(60)} samples")
    print(f"  ours label_excerpt_features: {label_s * 1e3:8.1f} ms per 45 s song")
    if reference_label_s is not None:
        print(
            f"  pyAudioAnalysis per excerpt: {reference_label_s * 1e3:8.1f} ms per 45 s song "
            f"({reference_label_s / label_s:.1f}x slower)"
        )


if __name__ == "__main__":
    try:
        main()
    except DataRootMissing as error:
        sys.exit(f"{Path(__file__).name}: {error}")
