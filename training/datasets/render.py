"""MIDI to audio with Debian's fluidsynth and FluidR3_GM, deterministically, cached by content hash.

The key of a render is the SHA-256 of the MIDI bytes, the soundfont's digest, the fluidsynth
version and every setting (sample rate, gain, reverb and chorus off, one synthesis thread, trim
length), so a cached file is reused exactly when re-rendering would give the same bytes.
fluidsynth's fast file renderer (-F) writes stereo 16-bit WAV; it is mixed down to mono
((L + R) / 2, floored), cut or padded with silence to the requested length and written as a mono
WAV that ffmpeg decodes like any other input.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile
import wave
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

import numpy as np

from .items import SetLoad

SOUNDFONT_ENV = "MUSIC_MOOD_SOUNDFONT"
# Debian package fluid-soundfont-gm.
DEFAULT_SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
FLUIDSYNTH = "fluidsynth"
RENDERS_DIR = "renders"
RENDER_TIMEOUT_S = 600
# Longest render accepted: a MIDI file that plays for hours is refused, not rendered.
MAX_RENDER_S = 1200.0
_CHUNK_BYTES = 1 << 20


class RenderError(Exception):
    """fluidsynth is missing or could not render a MIDI file."""


@dataclass(frozen=True)
class RenderSettings:
    sample_rate: int = 22050
    gain: float = 0.5
    reverb: bool = False
    chorus: bool = False
    cpu_cores: int = 1


@dataclass(frozen=True)
class Render:
    path: Path
    duration_s: float  # of the written file (after trimming)
    rendered_s: float  # what fluidsynth produced before trimming


def soundfont_path() -> Path:
    return Path(os.environ.get(SOUNDFONT_ENV) or DEFAULT_SOUNDFONT)


@cache
def _file_digest(path: Path, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _soundfont_digest(path: Path) -> str:
    if not path.is_file():
        raise RenderError(
            f"soundfont {path} not found: install Debian's fluid-soundfont-gm "
            f"or set {SOUNDFONT_ENV}"
        )
    stat = path.stat()
    return _file_digest(path.resolve(), stat.st_size, stat.st_mtime_ns)


@cache
def fluidsynth_version() -> str:
    try:
        done = subprocess.run(
            [FLUIDSYNTH, "--version"], capture_output=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise RenderError(
            f"fluidsynth is not usable ({error}); install Debian's fluidsynth"
        ) from error
    first = done.stdout.decode("utf-8", errors="replace").strip().splitlines()
    if done.returncode != 0 or not first:
        raise RenderError("fluidsynth --version failed; install Debian's fluidsynth")
    return first[0]


def render_key(midi_bytes: bytes, settings: RenderSettings, trim_s: float | None) -> str:
    soundfont = soundfont_path()
    description = json.dumps(
        {
            "soundfont": _soundfont_digest(soundfont),
            "fluidsynth": fluidsynth_version(),
            "settings": asdict(settings),
            "trim_s": trim_s,
        },
        sort_keys=True,
    )
    digest = hashlib.sha256(midi_bytes)
    digest.update(b"\0" + description.encode("utf-8"))
    return digest.hexdigest()


def fluidsynth_command(midi: Path, output: Path, settings: RenderSettings) -> list[str]:
    """Argument list (never a shell) of one fast render; absolute paths never read as options."""
    return [
        FLUIDSYNTH,
        "-n",
        "-i",
        "-q",
        "-F",
        str(output.resolve()),
        "-T",
        "wav",
        "-O",
        "s16",
        "-r",
        str(settings.sample_rate),
        "-g",
        f"{settings.gain:g}",
        "-R",
        "1" if settings.reverb else "0",
        "-C",
        "1" if settings.chorus else "0",
        "-o",
        f"synth.cpu-cores={settings.cpu_cores}",
        str(soundfont_path().resolve()),
        str(midi.resolve()),
    ]


def _read_stereo(path: Path, settings: RenderSettings) -> np.ndarray:
    try:
        with wave.open(str(path), "rb") as handle:
            if handle.getsampwidth() != 2 or handle.getframerate() != settings.sample_rate:
                raise RenderError(
                    f"fluidsynth wrote {handle.getsampwidth() * 8}-bit {handle.getframerate()} Hz"
                )
            channels = handle.getnchannels()
            frames = handle.readframes(handle.getnframes())
    except (wave.Error, EOFError) as error:
        raise RenderError(f"fluidsynth wrote an unreadable WAV: {error}") from error
    return np.frombuffer(frames, dtype="<i2").reshape(-1, channels)


def _write_mono(path: Path, samples: np.ndarray, sample_rate: int) -> None:
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    with wave.open(str(partial), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(sample_rate)
        handle.writeframes(samples.astype("<i2").tobytes())
    partial.replace(path)


def wav_duration_s(path: Path) -> float:
    with wave.open(str(path), "rb") as handle:
        return handle.getnframes() / handle.getframerate()


def render_midi(
    midi: Path,
    cache_dir: Path,
    *,
    trim_s: float | None = None,
    settings: RenderSettings | None = None,
) -> Render:
    """Mono WAV of the MIDI file (cut or padded to `trim_s` if given), rendered once per content."""
    settings = settings or RenderSettings()
    midi_bytes = midi.read_bytes()
    key = render_key(midi_bytes, settings, trim_s)
    out_dir = cache_dir / RENDERS_DIR
    target = out_dir / f"{key}.wav"
    meta = target.with_suffix(".json")
    if target.is_file() and meta.is_file():
        try:
            rendered_s = float(json.loads(meta.read_text(encoding="utf-8"))["rendered_s"])
            return Render(target, wav_duration_s(target), rendered_s)
        except (ValueError, KeyError, wave.Error, EOFError):
            pass  # an interrupted earlier render: do it again
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".render-") as scratch:
        raw = Path(scratch) / "stereo.wav"
        command = fluidsynth_command(midi, raw, settings)
        try:
            done = subprocess.run(
                command, capture_output=True, timeout=RENDER_TIMEOUT_S, check=False
            )
        except FileNotFoundError as error:
            raise RenderError("fluidsynth not found; install Debian's fluidsynth") from error
        except subprocess.TimeoutExpired as error:
            raise RenderError(
                f"rendering {midi.name} took longer than {RENDER_TIMEOUT_S} s"
            ) from error
        if done.returncode != 0 or not raw.is_file():
            message = done.stderr.decode("utf-8", errors="replace").strip()[-300:]
            raise RenderError(
                f"fluidsynth failed on {midi.name} (exit {done.returncode}): {message}"
            )
        stereo = _read_stereo(raw, settings)
    if not len(stereo):
        raise RenderError(f"fluidsynth rendered no audio from {midi.name}")
    rendered_s = len(stereo) / settings.sample_rate
    if rendered_s > MAX_RENDER_S:
        raise RenderError(
            f"{midi.name} renders to {rendered_s:.0f} s, more than {MAX_RENDER_S:.0f} s"
        )
    mono = (stereo.astype(np.int32).sum(axis=1) // stereo.shape[1]).astype(np.int16)
    if trim_s is not None:
        length = round(trim_s * settings.sample_rate)
        mono = mono[:length] if len(mono) >= length else np.pad(mono, (0, length - len(mono)))
    _write_mono(target, mono, settings.sample_rate)
    meta.write_text(
        json.dumps({"midi": midi.name, "rendered_s": rendered_s}) + "\n", encoding="utf-8"
    )
    return Render(target, len(mono) / settings.sample_rate, rendered_s)


def render_midi_or_report(
    midi: Path, cache_dir: Path, result: SetLoad, item_id: str, *, trim_s: float | None = None
) -> Render | None:
    """:func:`render_midi`, or None with the problem noted when the MIDI cannot be rendered."""
    try:
        return render_midi(midi, cache_dir, trim_s=trim_s)
    except (RenderError, OSError) as error:
        result.problem(item_id, f"MIDI unreadable: {error}")
        return None
