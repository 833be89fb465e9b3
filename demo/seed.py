"""Generates the demo's Home Assistant config folder (demo/config) from the templates beside it.

configuration.yaml is rewritten on every run (with absolute paths for this clone); the integration
is linked in; the Music Mood config entry is seeded only into a fresh folder, so a user's own
changes (onboarding, options, other integrations) survive restarts. Standard library only.
"""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path

DEMO_DIR = Path(__file__).resolve().parent
REPO_ROOT = DEMO_DIR.parent
DATA_DIR = REPO_ROOT / "data"
DEMO_CLIP = DATA_DIR / "librosa_cc" / "Kevin_MacLeod_-_Vibe_Ace.ogg"
DEMO_LIGHT = "light.kitchen_lights"

# Options of the seeded analyser. Mood lighting keys follow custom_components/music_mood/const.py.
ANALYSER_OPTIONS: dict[str, object] = {
    "loop_file": True,
    "mood_lights": [DEMO_LIGHT],
}


def seeded_config_entries() -> dict[str, object]:
    """core.config_entries in storage format 1.1; Home Assistant migrates it to its own format."""
    analyser = {
        "entry_id": uuid.uuid4().hex,
        "version": 1,
        "minor_version": 1,
        "domain": "music_mood",
        "title": "Demo",
        "data": {
            "kind": "analyser",
            "name": "Demo",
            "source_type": "ffmpeg",
            "source": str(DEMO_CLIP),
            "model": "default",
        },
        "options": ANALYSER_OPTIONS,
        "source": "user",
        "unique_id": None,
        "disabled_by": None,
    }
    return {
        "version": 1,
        "minor_version": 1,
        "key": "core.config_entries",
        "data": {"entries": [analyser]},
    }


def main(config_dir: Path) -> None:
    if not DEMO_CLIP.is_file():
        sys.exit(f"demo clip missing: {DEMO_CLIP}")
    config_dir.mkdir(parents=True, exist_ok=True)

    template = (DEMO_DIR / "configuration.yaml").read_text(encoding="utf-8")
    (config_dir / "configuration.yaml").write_text(
        template.replace("@DATA_DIR@", str(DATA_DIR)), encoding="utf-8"
    )

    custom_components = config_dir / "custom_components"
    custom_components.mkdir(exist_ok=True)
    link = custom_components / "music_mood"
    target = REPO_ROOT / "custom_components" / "music_mood"
    if link.is_symlink() and link.resolve() != target:
        link.unlink()
    if not link.is_symlink():
        link.symlink_to(target, target_is_directory=True)

    entries_file = config_dir / ".storage" / "core.config_entries"
    if not entries_file.exists():
        entries_file.parent.mkdir(exist_ok=True)
        entries_file.write_text(
            json.dumps(seeded_config_entries(), indent=2) + "\n", encoding="utf-8"
        )
        print(f"seeded the Music Mood demo analyser ({DEMO_CLIP.name}) into {entries_file}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEMO_DIR / "config")
