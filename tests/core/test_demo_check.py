"""demo/check.py: what ``scripts/demo.sh --check`` counts and which log records it blames.

The log lines are real Home Assistant log records (format and tracebacks as written by Home
Assistant 2025.4.4); the database has the recorder's own table and column names.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.file_modules import load_file_module

REPO_ROOT = Path(__file__).resolve().parents[2]


check = load_file_module("demo/check.py", "demo_check")
seed = load_file_module("demo/seed.py", "demo_seed")

VENV_SITE = "music_mood-demo-venv/lib/python3.13/site-packages"
TIME = "2026-12-02 20:10:01.500"
# The aiodns 3.2.0 + pycares 5 crash as Radio Browser logged it, from a path that contains
# "music_mood" (the venv) although the record is not the integration's.
PYCARES_CRASH = "\n".join(
    [
        f"{TIME} ERROR (MainThread) [homeassistant.config_entries] "
        "Error setting up entry Radio Browser for radio_browser",
        "Traceback (most recent call last):",
        f'  File "{VENV_SITE}/aiohttp/resolver.py", line 115, in resolve',
        "    resp = await self._resolver.getaddrinfo(",
        f'  File "{VENV_SITE}/aiodns/__init__.py", line 165, in getaddrinfo',
        "    self._channel.getaddrinfo(host, port, cb, family=family, type=0, proto=proto)",
        "TypeError: Channel.getaddrinfo() takes 3 positional arguments but 4 positional "
        "arguments (and 4 keyword-only arguments) were given",
        "",
    ]
)
NETWORK_DOWN = "\n".join(
    [
        f"{TIME} ERROR (MainThread) [homeassistant.components.radio_browser] Could not connect",
        "Traceback (most recent call last):",
        '  File "aiohttp/connector.py", line 1268, in _create_direct_connection',
        "aiohttp.client_exceptions.ClientConnectorDNSError: Cannot connect to host "
        "all.api.radio-browser.info:443 ssl:default [Could not contact DNS servers]",
        "",
    ]
)
OWN_RECORDS = (
    f"{TIME} DEBUG (MainThread) [custom_components.music_mood.pipeline] Demo: excerpt 1\n"
    f"{TIME} WARNING (MainThread) [custom_components.music_mood] Demo: ffmpeg restarted\n"
)
OWN_ERROR = f"""\
{TIME} ERROR (SyncWorker_0) [custom_components.music_mood.pipeline] Demo: model failed
Traceback (most recent call last):
  File "/repo/custom_components/music_mood/pipeline.py", line 10, in run
ValueError: bad tensor
"""
SETUP_FAILED = (
    "2026-12-02 20:10:06.000 ERROR (MainThread) [homeassistant.setup] Setup failed for "
    "'assist_pipeline': Requirements for assist_pipeline not found: ['pymicro-vad==1.0.1'].\n"
)


def records(text: str) -> list[Any]:
    return list(check.parse_log(text.splitlines(keepends=True)))


def test_tracebacks_stay_with_their_record() -> None:
    parsed = records(PYCARES_CRASH + OWN_RECORDS)
    assert [record.logger for record in parsed] == [
        "homeassistant.config_entries",
        "custom_components.music_mood.pipeline",
        "custom_components.music_mood",
    ]
    assert parsed[0].exception_name == "TypeError"
    assert parsed[1].exception_name is None


def test_integration_records_are_selected_by_logger_not_by_path() -> None:
    parsed = records(PYCARES_CRASH + OWN_RECORDS + OWN_ERROR)
    own = [record for record in parsed if check.is_integration_record(record)]
    assert [record.level for record in own] == ["DEBUG", "WARNING", "ERROR"]
    # "custom_components.music_mood_other" is another integration, not a child logger.
    other = records(OWN_RECORDS.replace("music_mood]", "music_mood_other]"))
    assert [check.is_integration_record(record) for record in other] == [True, False]


def test_a_library_pair_crash_is_blamed_and_a_network_failure_is_not() -> None:
    parsed = records(PYCARES_CRASH + NETWORK_DOWN + OWN_ERROR)
    assert [check.is_crash(record) for record in parsed] == [True, False, False]


def test_only_integrations_the_ui_needs_count_as_failed_setups() -> None:
    radio = SETUP_FAILED.replace("'assist_pipeline'", "'radio_browser'")
    assert check.failed_setups(records(SETUP_FAILED + radio)) == [SETUP_FAILED.rstrip("\n")]


def _write_config(config_dir: Path, entry_id: str) -> None:
    storage = config_dir / ".storage"
    storage.mkdir(parents=True)
    entries = seed.seeded_config_entries()
    entries["data"]["entries"][0]["entry_id"] = entry_id
    (storage / "core.config_entries").write_text(json.dumps(entries), encoding="utf-8")
    registry = {
        "data": {
            "entities": [
                {
                    "entity_id": f"sensor.demo_{key}",
                    "platform": "music_mood",
                    "config_entry_id": entry_id,
                    "unique_id": f"{entry_id}_{key}",
                }
                for key in ("valence", "arousal", "mood", "audio_level")
            ]
            # An analyser of another config (a re-used database may still hold its rows).
            + [
                {
                    "entity_id": "sensor.old_valence",
                    "platform": "music_mood",
                    "config_entry_id": "gone",
                    "unique_id": "gone_valence",
                }
            ]
        }
    }
    (storage / "core.entity_registry").write_text(json.dumps(registry), encoding="utf-8")


def _write_states(database: Path, rows: list[tuple[str, str, float]]) -> None:
    connection = sqlite3.connect(database)
    connection.execute("CREATE TABLE states_meta (metadata_id INTEGER PRIMARY KEY, entity_id TEXT)")
    connection.execute(
        "CREATE TABLE states (state_id INTEGER PRIMARY KEY, metadata_id INTEGER, state TEXT, "
        "last_updated_ts FLOAT)"
    )
    ids: dict[str, int] = {}
    for entity_id, state, when in rows:
        if entity_id not in ids:
            ids[entity_id] = len(ids) + 1
            connection.execute("INSERT INTO states_meta VALUES (?, ?)", (ids[entity_id], entity_id))
        connection.execute(
            "INSERT INTO states (metadata_id, state, last_updated_ts) VALUES (?, ?, ?)",
            (ids[entity_id], state, when),
        )
    connection.commit()
    connection.close()


def test_only_this_runs_changes_of_this_configs_entities_count(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    since, until = 1_000.0, 1_060.0
    _write_config(tmp_path, "entry1")
    rows: list[tuple[str, str, float]] = []
    # Before this run (a re-used config): plenty of rows that must not count.
    rows += [(entity, "0.1", 500.0 + i) for entity in ("sensor.demo_valence",) for i in range(20)]
    rows += [("light.kitchen_lights", "on", 500.0 + i) for i in range(20)]
    # This run: 6 valence, 2 arousal (too few), 1 mood, 5 light; unavailable never counts.
    rows += [("sensor.demo_valence", f"0.{i}", since + 5 + i) for i in range(6)]
    rows += [("sensor.demo_arousal", state, since + 9) for state in ("0.2", "-0.1", "unavailable")]
    rows += [("sensor.demo_mood", "happy", since + 20)]
    rows += [("light.kitchen_lights", "on", since + 10 + i) for i in range(5)]
    # Another config's analyser in the same database.
    rows += [("sensor.old_valence", f"0.{i}", since + 30) for i in range(9)]
    _write_states(tmp_path / "home-assistant_v2.db", rows)
    (tmp_path / "home-assistant.log").write_text(OWN_RECORDS + NETWORK_DOWN, encoding="utf-8")

    status = check.main([str(tmp_path), "--since", str(since), "--until", str(until)])

    output = capsys.readouterr()
    assert "sensor.demo_valence: 6 (6.0/min" in output.out
    assert "sensor.demo_arousal: 2 (2.0/min" in output.out
    assert "sensor.demo_mood: 1 (1.0/min" in output.out
    assert "light.kitchen_lights: 5 (5.0/min" in output.out
    assert "sensor.old_valence" not in output.out
    assert status == 1
    assert output.err.strip() == "FAILED: sensor.demo_arousal changed 2 times, fewer than 5"


def test_a_crash_in_any_integration_fails_the_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write_config(tmp_path, "entry1")
    rows = [
        (entity, f"0.{i}", 1_010.0 + i)
        for entity in ("sensor.demo_valence", "sensor.demo_arousal", "sensor.demo_mood")
        for i in range(6)
    ] + [("light.kitchen_lights", "on", 1_010.0 + i) for i in range(6)]
    _write_states(tmp_path / "home-assistant_v2.db", rows)
    log = tmp_path / "home-assistant.log"
    arguments = [str(tmp_path), "--since", "1000", "--until", "1060"]

    log.write_text(OWN_RECORDS + NETWORK_DOWN, encoding="utf-8")
    assert check.main(arguments) == 0

    log.write_text(OWN_RECORDS + PYCARES_CRASH, encoding="utf-8")
    assert check.main(arguments) == 1
    assert "incompatible library pair" in capsys.readouterr().err


def test_the_seeded_dashboard_shows_the_seeded_analysers_entities() -> None:
    """The dashboard's entity ids are the ones Home Assistant gives an analyser named like the
    seeded one, and it has the gauges, the history graphs and the light the demo is about."""
    entry = seed.seeded_config_entries()["data"]["entries"][0]
    prefix = entry["title"].lower()
    cards = seed.seeded_dashboard()["data"]["config"]["views"][0]["cards"]
    types = [card["type"] for card in cards]
    assert {"entities", "horizontal-stack", "history-graph", "light"} <= set(types)
    shown = json.dumps(cards)
    for key in ("valence", "arousal", "mood"):
        assert f"sensor.{prefix}_{key}" in shown
    assert seed.DEMO_LIGHT in shown
    assert entry["options"]["mood_lights"] == [seed.DEMO_LIGHT]
    assert entry["unique_id"] == f"ffmpeg:{entry['data']['source']}"


def test_a_demo_folder_playing_a_vanished_file_is_pointed_out(tmp_path: Path) -> None:
    """A folder from a demo that played a clip from the repository gets a hint to reset it."""
    storage = tmp_path / ".storage"
    storage.mkdir()
    entries = seed.seeded_config_entries()
    entries_file = storage / "core.config_entries"
    entries_file.write_text(json.dumps(entries), encoding="utf-8")
    track = Path(entries["data"]["entries"][0]["data"]["source"])
    assert seed.missing_demo_sources(tmp_path) == ([] if track.exists() else [str(track)])

    gone = tmp_path / "data" / "librosa_cc" / "Kevin_MacLeod_-_Vibe_Ace.ogg"
    entries["data"]["entries"][0]["data"]["source"] = str(gone)
    entries_file.write_text(json.dumps(entries), encoding="utf-8")
    assert seed.missing_demo_sources(tmp_path) == [str(gone)]
