#!/usr/bin/env bash
# Sets up and starts a real Home Assistant on http://localhost:8123 with Music Mood and a demo analyser.
#
#   bash scripts/demo.sh           set up (first run: a few minutes), start, run until Ctrl-C
#   bash scripts/demo.sh --reset   start from a fresh demo/config (forgets onboarding and any changes)
#   bash scripts/demo.sh --check   start, wait until the UI answers, report Music Mood's log lines, stop
#
# The config folder demo/config is generated from demo/configuration.yaml and demo/seed.py. It holds a
# pre-seeded "Demo" analyser that loops a bundled CC-BY clip (data/librosa_cc) and drives the colour of the
# demo integration's "Kitchen Lights". Open the URL, create the onboarding user, and watch the Music Mood
# sensors and the light. The first start also lets Home Assistant download its frontend from PyPI.
# Needs: Python >= 3.14.2 (or Debian's apt-get to fetch a private one, see scripts/build_python314.sh) or
# else Python 3.13; ffmpeg (apt-get installed when running as root); access to PyPI.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$REPO_ROOT"

PORT="${MUSIC_MOOD_DEMO_PORT:-8123}"
CONFIG_DIR="$REPO_ROOT/demo/config"
MODE=run
for argument in "$@"; do
    case "$argument" in
        --reset) rm -rf "$CONFIG_DIR" ;;
        --check) MODE=check ;;
        *) die "unknown argument '$argument' (use --reset or --check)" ;;
    esac
done

ensure_programs ffmpeg:ffmpeg ffprobe:ffmpeg curl:curl

# The newest Home Assistant the tests cover needs Python 3.14. A private 3.14 (scripts/build_python314.sh)
# has no C headers, so Home Assistant cannot build the voice pipeline's packages on it, and the frontend
# then never finishes loading: prefer an installed 3.13 with the oldest tested Home Assistant instead.
if PYTHON="$(find_python 14 3.14.2)"; then
    HA_PIN="homeassistant==2026.10.4"
elif PYTHON="$(find_python 13 3.13.0)"; then
    HA_PIN="homeassistant==2025.4.4"
elif command -v apt-get >/dev/null 2>&1 && command -v dpkg-deb >/dev/null 2>&1; then
    log "no Python >= 3.14.2 or 3.13 installed: using a private 3.14 from scripts/build_python314.sh"
    log "(on it the voice pipeline cannot be built; if the UI stays on 'Loading', install Python 3.13)"
    PYTHON="private-3.14"
    HA_PIN="homeassistant==2026.10.4"
else
    die "the demo needs Python >= 3.14.2 or 3.13 (with venv/ensurepip), or a Debian/Ubuntu host to fetch 3.14 on. Install one, e.g. 'pyenv install 3.13'."
fi
VENV="$(ensure_venv demo "$PYTHON" "" -- "$HA_PIN ha-ffmpeg==3.2.2 pyserial==3.5 threadpoolctl==3.6.0")"
# What the demo configuration loads (demo/configuration.yaml, the demo integration's entity platforms) and
# what Music Mood imports; installed now rather than by Home Assistant's runtime installer.
install_ha_requirements --best-effort "$VENV" --always-loaded --imported-by "$REPO_ROOT/custom_components/music_mood" \
    frontend config history logbook demo ffmpeg logger assist_pipeline conversation \
    light sensor binary_sensor switch camera media_player stt tts notify update
log "Home Assistant $(ha_version_in "$VENV") on Python $(python_version_of "$VENV/bin/python")"

if curl -s -o /dev/null --max-time 2 "http://localhost:$PORT/"; then
    die "something already answers on port $PORT; stop it or set MUSIC_MOOD_DEMO_PORT"
fi
"$VENV/bin/python" demo/seed.py "$CONFIG_DIR"
if [[ "$PORT" != 8123 ]]; then
    printf '\nhttp:\n  server_port: %s\n' "$PORT" >> "$CONFIG_DIR/configuration.yaml"
fi

LOG_FILE="$CONFIG_DIR/home-assistant.log"
HA_PID=""
stop_home_assistant() {
    if [[ -n "$HA_PID" ]] && kill -0 "$HA_PID" 2>/dev/null; then
        log "stopping Home Assistant"
        kill -TERM "$HA_PID" 2>/dev/null || true
        wait "$HA_PID" 2>/dev/null || true
    fi
    HA_PID=""
}
trap 'stop_home_assistant; exit 130' INT
trap 'stop_home_assistant; exit 143' TERM
trap 'stop_home_assistant' EXIT

log "starting Home Assistant (log: $LOG_FILE)"
"$VENV/bin/python" -m homeassistant --config "$CONFIG_DIR" &
HA_PID=$!

# The UI answers 200 once it is up (after a redirect to onboarding on a fresh config).
ui_status() { curl -sL -o /dev/null -w '%{http_code}' --max-time 5 "http://localhost:$PORT/" || true; }
for _ in $(seq 1 300); do
    kill -0 "$HA_PID" 2>/dev/null || { HA_PID=""; die "Home Assistant exited during start-up; see $LOG_FILE"; }
    [[ "$(ui_status)" == 200 ]] && break
    sleep 2
done
[[ "$(ui_status)" == 200 ]] || die "Home Assistant did not answer on port $PORT within 10 minutes; see $LOG_FILE"

if [[ $MODE == check ]]; then
    # Let the analyser run a while, then stop so the recorder flushes its database.
    sleep 45
    stop_home_assistant
    log "Music Mood lines in $LOG_FILE:"
    grep -n "music_mood" "$LOG_FILE" >&2 || log "(none)"
    if grep -E "^[0-9-]+ [0-9:.]+ (ERROR|CRITICAL) .*music_mood" "$LOG_FILE" >/dev/null; then
        die "Music Mood logged errors (above)"
    fi
    # The frontend waits for every loaded integration's services: one that failed to set up (e.g. the
    # voice pipeline without its packages) leaves the UI on "Loading" although the server answers.
    if grep -E "Setup failed for '?(frontend|config|demo|conversation|assist_pipeline|music_mood)'?" "$LOG_FILE" >&2; then
        die "an integration the demo needs failed to set up (above); the UI would not load"
    fi
    # The recorder's history proves the sensors moved and the demo light followed.
    "$VENV/bin/python" - "$CONFIG_DIR/home-assistant_v2.db" <<'PY_CHECK' || die "the demo did not come alive (above)"
import sqlite3, sys
database = sqlite3.connect(sys.argv[1])
def changes(pattern: str) -> int:
    query = ("SELECT COUNT(*) FROM states JOIN states_meta USING (metadata_id) "
             "WHERE states_meta.entity_id LIKE ? AND states.state NOT IN ('unavailable', 'unknown')")
    return database.execute(query, (pattern,)).fetchone()[0]
counts = {"valence sensor": changes("sensor.%_valence"), "arousal sensor": changes("sensor.%_arousal"),
          "light.kitchen_lights": changes("light.kitchen_lights")}
print("recorded state changes:", counts, file=sys.stderr)
sys.exit(0 if min(counts.values()) >= 5 else 1)
PY_CHECK
    log "check passed: the UI answered on http://localhost:$PORT, Music Mood logged no errors, its sensors and the demo light changed"
    exit 0
fi

log "Home Assistant is up: open http://localhost:$PORT, create the onboarding user, then look at"
log "Settings > Devices & services > Music Mood, and at the Kitchen Lights. Ctrl-C stops it."
wait "$HA_PID"
