"""Generates the demo's Home Assistant config folder (demo/config) from the templates beside it.

configuration.yaml is rewritten on every run (with the music folder allowed); the integration is
linked in; the Music Mood analyser and the "Music Mood" dashboard are seeded only into a fresh
folder, so a user's own changes (onboarding, options, dashboards) survive restarts. Standard
library only, except for reading Home Assistant's version when a port is given.

The music comes from a Debian package (scripts/demo.sh installs it), so nothing third-party is in
the repository and a fresh machine gets the same track:

    python demo/seed.py CONFIG_DIR [PORT]  seed CONFIG_DIR (Home Assistant listening on PORT)
    python demo/seed.py --track           print the path of the track the demo plays
    python demo/seed.py --package         print the Debian package that ships it
"""

from __future__ import annotations

import json
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

DEMO_DIR = Path(__file__).resolve().parent
REPO_ROOT = DEMO_DIR.parent
# "We Are Tumiki Fighters" by Kenta Cho, from the game Tumiki Fighters; BSD-2-Clause (see
# /usr/share/doc/tumiki-fighters-data/copyright). 74 s of Ogg Vorbis, looped.
MUSIC_PACKAGE = "tumiki-fighters-data"
DEMO_TRACK = Path("/usr/share/games/tumiki-fighters/sounds/we_are_tumiki_fighters.ogg")
TRACK_CREDIT = "“We Are Tumiki Fighters” by Kenta Cho (Tumiki Fighters), BSD-2-Clause"
DEMO_LIGHT = "light.kitchen_lights"
# The analyser is named "Demo", so Home Assistant names its entities sensor.demo_valence and so on.
ANALYSER_NAME = "Demo"
ENTITY_PREFIX = "demo"

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
        "title": ANALYSER_NAME,
        "data": {
            "kind": "analyser",
            "name": ANALYSER_NAME,
            "source_type": "ffmpeg",
            "source": str(DEMO_TRACK),
            "model": "default",
        },
        "options": ANALYSER_OPTIONS,
        "source": "user",
        # The canonical form of an absolute, normalised path is the path (source_identity.py).
        "unique_id": f"ffmpeg:{DEMO_TRACK}",
        "disabled_by": None,
    }
    return {
        "version": 1,
        "minor_version": 1,
        "key": "core.config_entries",
        "data": {"entries": [analyser]},
    }


def music_mood_dashboard(prefix: str = ENTITY_PREFIX) -> dict[str, Any]:
    """The default dashboard's configuration: the analyser, its gauges and history, the light."""
    valence, arousal, mood = (
        f"sensor.{prefix}_valence",
        f"sensor.{prefix}_arousal",
        f"sensor.{prefix}_mood",
    )
    gauge = {
        "type": "gauge",
        "min": -1,
        "max": 1,
        "needle": True,
        "segments": [{"from": -1, "color": "#4a6fa5"}, {"from": 0, "color": "#e0a030"}],
    }
    return {
        "title": "Music Mood",
        "views": [
            {
                "title": "Music Mood",
                "path": "music-mood",
                "cards": [
                    {
                        "type": "entities",
                        "title": "Music Mood: Demo analyser",
                        "entities": [
                            mood,
                            valence,
                            arousal,
                            f"binary_sensor.{prefix}_music_playing",
                            f"sensor.{prefix}_analyser_status",
                            f"switch.{prefix}_mood_lighting",
                        ],
                    },
                    {
                        "type": "horizontal-stack",
                        "cards": [
                            {**gauge, "entity": valence, "name": "Valence"},
                            {**gauge, "entity": arousal, "name": "Arousal"},
                        ],
                    },
                    {
                        "type": "history-graph",
                        "title": "Valence and arousal",
                        "hours_to_show": 0.05,
                        "entities": [valence, arousal],
                    },
                    {
                        "type": "history-graph",
                        "title": "Mood",
                        "hours_to_show": 0.05,
                        "entities": [mood],
                    },
                    {
                        "type": "light",
                        "entity": DEMO_LIGHT,
                        "name": "Kitchen Lights (mood lighting)",
                    },
                    {
                        "type": "markdown",
                        "content": f"Playing {TRACK_CREDIT}, from Debian's `{MUSIC_PACKAGE}`.",
                    },
                ],
            }
        ],
    }


def seeded_dashboard() -> dict[str, object]:
    """.storage/lovelace, the default dashboard in storage mode.

    Home Assistant 2025.4 shows it as the Overview; 2026.x migrates it to the "lovelace"
    dashboard and makes that the default panel.
    """
    return {
        "version": 1,
        "minor_version": 1,
        "key": "lovelace",
        "data": {"config": music_mood_dashboard()},
    }


def set_http_port(config_dir: Path, port: int, home_assistant_version: str) -> None:
    """Makes Home Assistant listen on ``port``.

    Up to 2025.x that is configuration.yaml's ``http: server_port``. 2026.x keeps its HTTP settings
    in .storage/http: it imports YAML once as a "pending" trial that it reverts to the previous
    port five minutes later unless a user confirms it in the UI, and ignores YAML after that. So
    there the port goes straight into the confirmed ("stable") settings.
    """
    if int(home_assistant_version.split(".", maxsplit=1)[0]) < 2026:
        with (config_dir / "configuration.yaml").open("a", encoding="utf-8") as handle:
            handle.write(f"\nhttp:\n  server_port: {port}\n")
        return
    store = config_dir / ".storage" / "http"
    if store.exists():
        content = json.loads(store.read_text(encoding="utf-8"))
    else:
        content = {
            "version": 2,
            "minor_version": 2,
            "key": "http",
            "data": {
                "stable": {
                    "cors_allowed_origins": ["https://cast.home-assistant.io"],
                    "login_attempts_threshold": -1,
                    "ip_ban_enabled": True,
                    "ssl_profile": "modern",
                    "use_x_frame_options": True,
                    "created_at": datetime.now(UTC).isoformat(),
                    "error": None,
                    "error_message": None,
                }
            },
        }
    content["data"]["stable"]["server_port"] = port
    content["data"]["pending"] = None
    content["data"]["yaml_migration_done"] = True
    write_json(store, content)


def write_json(path: Path, content: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def missing_demo_sources(config_dir: Path) -> list[str]:
    """Local files the folder's Music Mood analysers play that are gone (e.g. the clip an older
    demo played from the repository)."""
    entries_file = config_dir / ".storage" / "core.config_entries"
    if not entries_file.exists():
        return []
    entries = json.loads(entries_file.read_text(encoding="utf-8"))["data"]["entries"]
    return [
        entry["data"]["source"]
        for entry in entries
        if entry["domain"] == "music_mood"
        and str(entry.get("data", {}).get("source", "")).startswith("/")
        and not Path(entry["data"]["source"]).exists()
    ]


def main(config_dir: Path, port: int | None = None) -> None:
    if not DEMO_TRACK.is_file():
        sys.exit(
            f"demo track missing: {DEMO_TRACK} (install the Debian package {MUSIC_PACKAGE}: "
            f"'apt-get install {MUSIC_PACKAGE}'; scripts/demo.sh does it when run as root)"
        )
    for source in missing_demo_sources(config_dir):
        print(
            f"warning: {config_dir} has an analyser playing {source}, which does not exist; "
            "'scripts/demo.sh --reset' starts from a fresh demo folder",
            file=sys.stderr,
        )
    config_dir.mkdir(parents=True, exist_ok=True)

    template = (DEMO_DIR / "configuration.yaml").read_text(encoding="utf-8")
    (config_dir / "configuration.yaml").write_text(
        template.replace("@MUSIC_DIR@", str(DEMO_TRACK.parent)), encoding="utf-8"
    )

    custom_components = config_dir / "custom_components"
    custom_components.mkdir(exist_ok=True)
    link = custom_components / "music_mood"
    target = REPO_ROOT / "custom_components" / "music_mood"
    if link.is_symlink() and link.resolve() != target:
        link.unlink()
    if not link.is_symlink():
        link.symlink_to(target, target_is_directory=True)

    storage = config_dir / ".storage"
    entries_file = storage / "core.config_entries"
    if not entries_file.exists():
        write_json(entries_file, seeded_config_entries())
        # Only with the analyser: in a folder the user already has, the dashboards are theirs.
        write_json(storage / "lovelace", seeded_dashboard())
        print(f"seeded the Music Mood demo analyser ({DEMO_TRACK.name}) and its dashboard")
    if port is not None:
        from homeassistant.const import __version__ as home_assistant_version  # noqa: PLC0415

        set_http_port(config_dir, port, home_assistant_version)


if __name__ == "__main__":
    if sys.argv[1:] == ["--track"]:
        print(DEMO_TRACK)
    elif sys.argv[1:] == ["--package"]:
        print(MUSIC_PACKAGE)
    else:
        main(
            Path(sys.argv[1]) if len(sys.argv) > 1 else DEMO_DIR / "config",
            int(sys.argv[2]) if len(sys.argv) > 2 else None,
        )
