"""hacs.json and the brand images HACS and Home Assistant show."""

from __future__ import annotations

import json
import struct
from pathlib import Path

from homeassistant.const import __version__ as HA_VERSION

REPO_ROOT = Path(__file__).resolve().parents[2]

BRAND_DIR = REPO_ROOT / "custom_components" / "music_mood" / "brand"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path.name} is not a PNG"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split(".")[:3] if part.isdigit())


def test_hacs_json_names_the_integration_and_a_tested_minimum() -> None:
    hacs = json.loads((REPO_ROOT / "hacs.json").read_text(encoding="utf-8"))

    assert hacs["name"] == "Music Mood"
    # The minimum is the oldest Home Assistant the tests run against (scripts/test.sh, ha-min),
    # so this test running at all on an older one would mean the claim is untested.
    assert _version_tuple(HA_VERSION) >= _version_tuple(hacs["homeassistant"])
    assert _version_tuple(hacs["homeassistant"]) == (2025, 4, 4)


def test_brand_icons_are_square_pngs_of_the_required_sizes() -> None:
    assert _png_size(BRAND_DIR / "icon.png") == (256, 256)
    assert _png_size(BRAND_DIR / "icon@2x.png") == (512, 512)
