"""Render docs/swatches.png: what each colour preset shows over the valence/arousal plane.

Three panels, valence left (-1) to right (+1), arousal bottom (-1) to top (+1):
  1. the colour wheel (circumplex) preset, colour only;
  2. the same with the arousal-driven brightness applied, as an RGB strip would show it;
  3. the four-corner preset with its default corners (bilinear blend).
Thin grey lines mark the neutral axes. Uses only numpy and a minimal PNG writer (zlib).

Run: python scripts/render_swatches.py [output.png]
"""

from __future__ import annotations

import struct
import sys
import zlib
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "custom_components" / "music_mood"))

from music_mood_core.colour import (  # noqa: E402
    PRESET_CIRCUMPLEX,
    PRESET_FOUR_CORNER,
    ColourSettings,
    mood_colour,
)

PANEL = 240
GAP = 10
BACKGROUND = (32, 32, 32)
AXIS = (110, 110, 110)


def write_png(path: Path, image: np.ndarray) -> None:
    """An 8-bit RGB PNG: signature, IHDR, one zlib IDAT (filter 0 on every row), IEND."""
    height, width, _ = image.shape

    def chunk(kind: bytes, payload: bytes) -> bytes:
        body = kind + payload
        return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + image[row].astype(np.uint8).tobytes() for row in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def render_panel(settings: ColourSettings, *, apply_brightness: bool) -> np.ndarray:
    panel = np.zeros((PANEL, PANEL, 3), dtype=np.float64)
    axis = np.linspace(-1.0, 1.0, PANEL)
    for row, arousal in enumerate(axis[::-1]):
        for column, valence in enumerate(axis):
            colour = mood_colour(float(valence), float(arousal), settings)
            scale = colour.brightness / 255.0 if apply_brightness else 1.0
            panel[row, column] = np.asarray(colour.rgb) * scale
    middle = PANEL // 2
    panel[middle, :] = AXIS
    panel[:, middle] = AXIS
    return panel


def render() -> np.ndarray:
    wheel = ColourSettings(preset=PRESET_CIRCUMPLEX)
    panels = [
        render_panel(wheel, apply_brightness=False),
        render_panel(wheel, apply_brightness=True),
        render_panel(ColourSettings(preset=PRESET_FOUR_CORNER), apply_brightness=False),
    ]
    width = len(panels) * PANEL + (len(panels) + 1) * GAP
    image = np.empty((PANEL + 2 * GAP, width, 3), dtype=np.float64)
    image[:, :] = BACKGROUND
    for index, panel in enumerate(panels):
        left = GAP + index * (PANEL + GAP)
        image[GAP : GAP + PANEL, left : left + PANEL] = panel
    return np.clip(np.rint(image), 0, 255)


def main() -> None:
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO_ROOT / "docs" / "swatches.png"
    write_png(target, render())
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
