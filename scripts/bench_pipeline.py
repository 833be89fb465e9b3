"""Benchmark the live analyser: CPU, memory and delivery delay on a real stream.

    python scripts/bench_pipeline.py [--seconds 60] [--model PATH]

Runs the integration's stream loop (with its model holder) inside a real Home Assistant core (no
config entry, no frontend) against a local HTTP radio: a CC clip (stereo, 44.1 kHz, so ffmpeg
downmixes and resamples) looped and paced in real time by tests/integration/stream_server.py.
Measures, after the first reading:

- CPU share of one core of this process (the pipeline's Python side: reading, features, model) and
  of the ffmpeg child, over the run;
- resident memory of both (and the growth of this process during the run);
- delay from reading the last byte of a hop off ffmpeg's stdout to the listener callback.

Goals: pipeline CPU <= 1 % of one core, delay <= 150 ms. Figures are printed, nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
# training/ imports the core as the top-level package it is inside the training environment.
sys.path.insert(0, str(REPO_ROOT / "custom_components" / "music_mood"))

from homeassistant.core import HomeAssistant  # noqa: E402
from homeassistant.helpers import issue_registry as ir  # noqa: E402

from custom_components.music_mood.audio_source import AudioSource  # noqa: E402
from custom_components.music_mood.const import SOURCE_TYPE_FFMPEG  # noqa: E402
from custom_components.music_mood.model_holder import ModelHolder  # noqa: E402
from custom_components.music_mood.music_mood_core.model import BUNDLED_MODEL_PATH  # noqa: E402
from custom_components.music_mood.music_mood_core.stream_loop import (  # noqa: E402
    StreamLoop,
    StreamSettings,
)
from custom_components.music_mood.pcm_sources import async_resolve_pcm_source  # noqa: E402
from training.datasets.root import DataRootMissing, data_path  # noqa: E402

# Real music from the data root (--data, $MUSIC_MOOD_DATA or ../shared/data).
CLIP = ("librosa_data_cc", "Kevin_MacLeod_-_Vibe_Ace.ogg")
FALLBACK_MODEL = REPO_ROOT / "tests" / "fixtures" / "models" / "ensemble.onnx"
STREAM_SERVER = REPO_ROOT / "tests" / "integration" / "stream_server.py"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def _proc_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def _proc_rss_mb(pid: int) -> float:
    resident_pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    return resident_pages * PAGE_SIZE / 2**20


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def prepare(
    model_path: Path, workdir: Path, clip: Path
) -> tuple[Path, subprocess.Popen[bytes], int]:
    """The radio (a WAV served by a child process) and a config dir holding the model."""
    wav = workdir / "radio.wav"
    subprocess.run(
        [
            *("ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(clip)),
            *("-ac", "2", "-ar", "44100", "-c:a", "pcm_s16le", str(wav)),
        ],
        check=True,
    )
    config_dir = workdir / "config"
    (config_dir / "music_mood").mkdir(parents=True)
    (config_dir / "music_mood" / "bench.onnx").write_bytes(model_path.read_bytes())
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, str(STREAM_SERVER), str(wav), str(port), "--pace", "--loop"],
        stdout=subprocess.PIPE,
    )
    assert server.stdout is not None
    server.stdout.readline()
    return config_dir, server, port


async def run(seconds: float, config_dir: Path, port: int, model_name: str) -> None:
    hass = HomeAssistant(str(config_dir))
    await ir.async_load(hass)
    models = ModelHolder(
        hass,
        entry_id="bench",
        name="Bench",
        model_id="user/bench.onnx",
        user_model_dir=config_dir / "music_mood",
    )
    source = AudioSource(hass, SOURCE_TYPE_FFMPEG, f"http://127.0.0.1:{port}/radio.wav")
    settings = StreamSettings(
        smoothing_s=4.0,
        silence_threshold_db=-50.0,
        silence_duration_s=3.0,
        stall_timeout_s=10.0,
        probe_timeout_s=15.0,
        backoff_min_s=1.0,
        backoff_max_s=60.0,
    )
    delays_ms: list[float] = []
    inference_ms: list[float] = []
    first_reading = asyncio.Event()
    seen = 0

    def on_reading(_reading: object) -> None:
        nonlocal seen
        now = time.perf_counter()
        stats = pipeline.stats
        if stats.readings != seen and stats.last_read_at is not None:
            seen = stats.readings
            first_reading.set()
            delays_ms.append((now - stats.last_read_at) * 1000.0)
            if stats.inference_ms is not None:
                inference_ms.append(stats.inference_ms)

    # The same Home Assistant core without a pipeline, side by side: what the pipeline adds.
    idle_before, idle_wall_before = time.process_time(), time.perf_counter()
    await asyncio.sleep(min(10.0, seconds))
    idle_share = (time.process_time() - idle_before) / (time.perf_counter() - idle_wall_before)

    pipeline = StreamLoop(
        name="Bench",
        source_name=source.redacted,
        settings=settings,
        models=models,
        resolve_source=lambda: async_resolve_pcm_source(source, "ffmpeg", loop_file=False),
        run_blocking=hass.async_add_executor_job,
        on_reading=on_reading,
        on_status=lambda: None,
    )
    pipeline.start(lambda coro: hass.async_create_background_task(coro, "bench stream loop"))
    try:
        await first_reading.wait()
        ffmpeg_pid = pipeline.stats.ffmpeg_pid
        assert ffmpeg_pid is not None
        delays_ms.clear()
        inference_ms.clear()
        rss_before = _proc_rss_mb(os.getpid())
        cpu_before = time.process_time()
        ffmpeg_cpu_before = _proc_cpu_seconds(ffmpeg_pid)
        wall_before = time.perf_counter()
        await asyncio.sleep(seconds)
        wall = time.perf_counter() - wall_before
        cpu = time.process_time() - cpu_before
        ffmpeg_cpu = _proc_cpu_seconds(ffmpeg_pid) - ffmpeg_cpu_before
        rss_after = _proc_rss_mb(os.getpid())
        ffmpeg_rss = _proc_rss_mb(ffmpeg_pid)
        readings = len(delays_ms)
        engine = models.model.engine if models.model else "?"
    finally:
        await pipeline.async_stop()
        await hass.async_stop(force=True)

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    both = 100 * ((cpu + ffmpeg_cpu) / wall - idle_share)
    print(f"model: {model_name} (engine {engine}); 44.1 kHz stereo WAV over HTTP; {wall:.1f} s")
    print(f"readings: {readings} ({readings / wall:.2f} per second, expected 2.00)")
    print(f"CPU, this process with the pipeline: {100 * cpu / wall:.2f} % of one core")
    print(f"CPU, the same core idle, no pipeline: {100 * idle_share:.2f} %")
    print(f"CPU, pipeline (read, features, model): {100 * (cpu / wall - idle_share):.2f} %")
    print(f"CPU, ffmpeg child (HTTP, demux, downmix, resample): {100 * ffmpeg_cpu / wall:.2f} %")
    print(f"CPU, pipeline + ffmpeg: {both:.2f} % of one core (goal for the pipeline: <= 1 %)")
    print(
        f"memory: process RSS {rss_after:.1f} MB (grew {rss_after - rss_before:+.1f} MB during "
        f"the run), peak {peak_mb:.1f} MB; ffmpeg RSS {ffmpeg_rss:.1f} MB"
    )
    if delays_ms:
        print(
            "delay, last byte of hop read -> listener: "
            f"median {statistics.median(delays_ms):.1f} ms, "
            f"p95 {_percentile(delays_ms, 0.95):.1f} ms, "
            f"max {max(delays_ms):.1f} ms (goal <= 150 ms)"
        )
        print(
            "features + model per hop (executor): "
            f"median {statistics.median(inference_ms):.1f} ms, max {max(inference_ms):.1f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help="data root (default $MUSIC_MOOD_DATA or ../shared/data)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING)
    model = args.model or (BUNDLED_MODEL_PATH if BUNDLED_MODEL_PATH.is_file() else FALLBACK_MODEL)
    clip = data_path(*CLIP, option=args.data)
    with tempfile.TemporaryDirectory() as workdir:
        config_dir, server, port = prepare(model, Path(workdir), clip)
        try:
            asyncio.run(run(args.seconds, config_dir, port, model.name))
        finally:
            server.kill()
            server.wait()


if __name__ == "__main__":
    try:
        main()
    except DataRootMissing as error:
        sys.exit(f"{Path(__file__).name}: {error}")
