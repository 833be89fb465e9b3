"""Judges one run of the demo (``scripts/demo.sh --check``) from its log and its recorder database.

    python demo/check.py CONFIG_DIR --since EPOCH --until EPOCH

It passes only when, in this run:

- Music Mood's own log records (loggers ``custom_components.music_mood...``) hold no error;
- no integration crashed on a programming error (a traceback ending in TypeError, AttributeError,
  ImportError...), which is what an incompatible library pair looks like (aiodns 3.2.0 with
  pycares 5 fails every request with a TypeError); plain network failures do not count: the demo
  may run without internet;
- no integration the UI needs failed to set up (the frontend then stays on "Loading");
- the valence, arousal and mood sensors of this config's Music Mood analysers and the demo light
  changed state between --since and --until (rows of earlier runs in a re-used database are not
  counted).

Standard library only.
"""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

DEMO_LIGHT = "light.kitchen_lights"
INTEGRATION_LOGGER = "custom_components.music_mood"
# The UI waits for every one of these; one that fails to set up leaves it on "Loading".
NEEDED_INTEGRATIONS = (
    "frontend",
    "config",
    "demo",
    "conversation",
    "assist_pipeline",
    "music_mood",
)
# Exceptions that mean code and library disagree, not that the world is unreachable.
CRASH_EXCEPTIONS = (
    "TypeError",
    "AttributeError",
    "ImportError",
    "ModuleNotFoundError",
    "NameError",
    "SyntaxError",
)
# Sensor keys (unique id suffixes) whose changes prove the analyser ran, with the least number of
# changes expected in a run. The mood moves only when valence/arousal cross a boundary (dead band).
SENSOR_MINIMUMS = {"valence": 5, "arousal": 5, "mood": 1}
LIGHT_MINIMUM = 5

_RECORD_START = re.compile(
    r"^(?P<time>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)?) (?P<level>[A-Z]+) "
    r"\((?P<thread>[^)]*)\) \[(?P<logger>[^\]]+)\] (?P<message>.*)$"
)
_EXCEPTION_LINE = re.compile(r"^(?:[\w.]+\.)?(?P<name>[A-Za-z_]\w*(?:Error|Exception))\b")


@dataclass(frozen=True)
class LogRecord:
    level: str
    logger: str
    lines: tuple[str, ...]

    @property
    def exception_name(self) -> str | None:
        """The class of the last exception in the record's traceback, if it has one."""
        if not any(line.startswith("Traceback") for line in self.lines):
            return None
        for line in reversed(self.lines):
            match = _EXCEPTION_LINE.match(line)
            if match:
                return match.group("name")
        return None

    @property
    def is_error(self) -> bool:
        return self.level in ("ERROR", "CRITICAL")


def parse_log(lines: Iterable[str]) -> Iterator[LogRecord]:
    """Home Assistant's log as records: a record's traceback lines stay with it."""
    current: list[str] = []
    level = logger = ""
    for raw in lines:
        line = raw.rstrip("\n")
        match = _RECORD_START.match(line)
        if match:
            if current:
                yield LogRecord(level, logger, tuple(current))
            level, logger, current = match.group("level"), match.group("logger"), [line]
        elif current:
            current.append(line)
    if current:
        yield LogRecord(level, logger, tuple(current))


def is_integration_record(record: LogRecord) -> bool:
    return record.logger == INTEGRATION_LOGGER or record.logger.startswith(INTEGRATION_LOGGER + ".")


def is_crash(record: LogRecord) -> bool:
    return record.is_error and record.exception_name in CRASH_EXCEPTIONS


def failed_setups(records: Iterable[LogRecord]) -> list[str]:
    pattern = re.compile(r"Setup failed for '?(?P<domain>[\w.]+)'?")
    failed = []
    for record in records:
        match = pattern.search(record.lines[0])
        if record.is_error and match and match.group("domain") in NEEDED_INTEGRATIONS:
            failed.append(record.lines[0])
    return failed


def analyser_sensors(config_dir: Path) -> dict[str, list[str]]:
    """Entity ids of this config's Music Mood analysers' sensors, by sensor key."""
    storage = config_dir / ".storage"
    entries = json.loads((storage / "core.config_entries").read_text(encoding="utf-8"))
    entry_ids = {
        entry["entry_id"]
        for entry in entries["data"]["entries"]
        if entry["domain"] == "music_mood" and entry.get("data", {}).get("kind") == "analyser"
    }
    registry = json.loads((storage / "core.entity_registry").read_text(encoding="utf-8"))
    sensors: dict[str, list[str]] = {key: [] for key in SENSOR_MINIMUMS}
    for entity in registry["data"]["entities"]:
        if entity.get("platform") != "music_mood" or entity.get("config_entry_id") not in entry_ids:
            continue
        for key in SENSOR_MINIMUMS:
            if entity["unique_id"] == f"{entity['config_entry_id']}_{key}":
                sensors[key].append(entity["entity_id"])
    return sensors


def state_changes(database: Path, entity_id: str, since: float, until: float) -> int:
    """Recorded states of ``entity_id`` between ``since`` and ``until`` (state or attributes
    changed; the light's colour is an attribute), other than unavailable/unknown."""
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        query = (
            "SELECT COUNT(*) FROM states JOIN states_meta USING (metadata_id) "
            "WHERE states_meta.entity_id = ? AND states.last_updated_ts BETWEEN ? AND ? "
            "AND states.state NOT IN ('unavailable', 'unknown')"
        )
        row = connection.execute(query, (entity_id, since, until)).fetchone()
    finally:
        connection.close()
    return int(row[0])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("config_dir", type=Path)
    parser.add_argument("--since", type=float, required=True, help="run start, seconds since epoch")
    parser.add_argument("--until", type=float, required=True, help="run end, seconds since epoch")
    arguments = parser.parse_args(argv)
    config_dir: Path = arguments.config_dir
    problems: list[str] = []

    log_file = config_dir / "home-assistant.log"
    with log_file.open(encoding="utf-8", errors="replace") as handle:
        records = list(parse_log(handle))

    own = [record for record in records if is_integration_record(record)]
    levels = {level: sum(r.level == level for r in own) for level in ("DEBUG", "INFO", "WARNING")}
    print(f"Music Mood log records in {log_file}: {len(own)} ({levels})")
    for record in own:
        if record.level not in ("DEBUG", "INFO"):
            print("\n".join(record.lines))
    if any(record.is_error for record in own):
        problems.append("Music Mood logged errors (above)")

    crashes = [record for record in records if is_crash(record)]
    for record in crashes:
        print(f"crash in {record.logger} ({record.exception_name}):")
        print("\n".join(record.lines[:1] + record.lines[-3:]))
    if crashes:
        problems.append(
            f"{len(crashes)} log record(s) show an integration crashing on a programming error "
            "(above): an incompatible library pair?"
        )

    for line in failed_setups(records):
        print(line)
        problems.append(
            "an integration the demo needs failed to set up (above); the UI would not load"
        )

    minutes = (arguments.until - arguments.since) / 60
    database = config_dir / "home-assistant_v2.db"
    sensors = analyser_sensors(config_dir)
    counted: list[tuple[str, int, int]] = []
    for key, minimum in SENSOR_MINIMUMS.items():
        if not sensors[key]:
            problems.append(f"no {key} sensor of a Music Mood analyser in the entity registry")
        counted += [
            (entity, state_changes(database, entity, arguments.since, arguments.until), minimum)
            for entity in sensors[key]
        ]
    counted.append(
        (
            DEMO_LIGHT,
            state_changes(database, DEMO_LIGHT, arguments.since, arguments.until),
            LIGHT_MINIMUM,
        )
    )
    print(f"state changes recorded in this run ({minutes:.1f} min):")
    for entity, changes, minimum in counted:
        print(f"  {entity}: {changes} ({changes / minutes:.1f}/min; at least {minimum} expected)")
        if changes < minimum:
            problems.append(f"{entity} changed {changes} times, fewer than {minimum}")

    for problem in problems:
        print(f"FAILED: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
