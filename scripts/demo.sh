#!/usr/bin/env bash
# Sets up and starts a real Home Assistant on http://localhost:8123 with Music Mood and a demo analyser.
#
#   bash scripts/demo.sh           set up (first run: a few minutes), start, run until Ctrl-C
#   bash scripts/demo.sh --reset   start from a fresh demo/config (forgets onboarding and any changes)
#   bash scripts/demo.sh --check   start, let the music play a while, stop, and judge the run (demo/check.py)
#
# The config folder demo/config is generated from demo/configuration.yaml and demo/seed.py. It holds a
# pre-seeded "Demo" analyser that loops a track from a Debian package (demo/seed.py names it) and drives the
# colour of the demo integration's "Kitchen Lights", and a "Music Mood" dashboard as the default one. Open
# the URL, create the onboarding user, and the dashboard shows the mood, valence, arousal and the light.
# Needs: Python >= 3.14.2 (or Debian's apt-get to fetch a private one, see scripts/build_python314.sh) or
# else Python 3.13; ffmpeg, the music package and libturbojpeg (apt-get installed when running as root);
# access to PyPI.
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

# debian_package_missing PACKAGE: true when dpkg knows no installed PACKAGE.
debian_package_missing() {
    ! dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'
}

# install_debian_package PACKAGE WHY: apt-get installs PACKAGE when it is missing; only root can, anyone else
# is told what to install. Returns non-zero when it stays missing.
APT_UPDATED=0
install_debian_package() {
    local package="$1" why="$2"
    command -v dpkg-query >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 || return 1
    debian_package_missing "$package" || return 0
    if [[ $(id -u) -ne 0 ]]; then
        log "missing Debian package $package ($why): install it ('sudo apt-get install $package') or run this script as root"
        return 1
    fi
    log "installing $package ($why) with apt-get"
    [[ $APT_UPDATED -eq 1 ]] || { apt-get update -qq; APT_UPDATED=1; }
    # apt's notes (e.g. debconf's "delaying package configuration") are shown only when it fails.
    local output
    output="$(DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$package" 2>&1)" \
        || { printf '%s\n' "$output" >&2; return 1; }
}

# The newest Home Assistant the tests cover needs Python 3.14. On a private 3.14 (scripts/build_python314.sh)
# pip compiles the voice pipeline's packages (no 3.14 wheels) with the host's C++ compiler, and without them
# the frontend never finishes loading: an installed 3.13 with the oldest tested Home Assistant comes first.
# MUSIC_MOOD_DEMO_PYTHON (an interpreter, or "private-3.14") overrides the choice.
if [[ -n "${MUSIC_MOOD_DEMO_PYTHON:-}" ]]; then
    PYTHON="$MUSIC_MOOD_DEMO_PYTHON"
    if [[ "$PYTHON" == private-3.14 || "$(python_version_of "$PYTHON")" == 3.14.* ]]; then
        HA_PIN="homeassistant==2026.10.4"
    else
        HA_PIN="homeassistant==2025.4.4"
    fi
elif PYTHON="$(find_python 14 3.14.2)"; then
    HA_PIN="homeassistant==2026.10.4"
elif PYTHON="$(find_python 13 3.13.0)"; then
    HA_PIN="homeassistant==2025.4.4"
elif command -v apt-get >/dev/null 2>&1 && command -v dpkg-deb >/dev/null 2>&1; then
    log "no Python >= 3.14.2 or 3.13 installed: using a private 3.14 from scripts/build_python314.sh"
    command -v g++ >/dev/null 2>&1 \
        || log "WARNING: no g++ to build the voice pipeline's packages with: the UI would stay on 'Loading' (apt-get install g++)"
    PYTHON="private-3.14"
    HA_PIN="homeassistant==2026.10.4"
else
    die "the demo needs Python >= 3.14.2 or 3.13 (with venv/ensurepip), or a Debian/Ubuntu host to fetch 3.14 on. Install one, e.g. 'pyenv install 3.13'."
fi
VENV="$(ensure_venv demo "$PYTHON" "" -- "$HA_PIN ha-ffmpeg==3.2.2 pyserial==3.5 threadpoolctl==3.6.0")"
# Transitive pins (scripts/lib/constraints) and a check that Home Assistant's DNS resolver works.
pin_transitive_requirements "$VENV"
# What the demo configuration loads (demo/configuration.yaml, the demo integration's entity platforms) and
# what Music Mood imports; installed now rather than by Home Assistant's runtime installer.
install_ha_requirements --best-effort "$VENV" --always-loaded --imported-by "$REPO_ROOT/custom_components/music_mood" \
    frontend config history logbook demo ffmpeg logger assist_pipeline conversation \
    light sensor binary_sensor switch camera media_player stt tts notify update
# The music: a free-licensed game soundtrack that Debian ships (demo/seed.py names track, author, licence).
DEMO_TRACK="$("$VENV/bin/python" demo/seed.py --track)"
MUSIC_PACKAGE="$("$VENV/bin/python" demo/seed.py --package)"
if [[ ! -f "$DEMO_TRACK" ]]; then
    install_debian_package "$MUSIC_PACKAGE" "the demo's music" && [[ -f "$DEMO_TRACK" ]] \
        || die "the demo plays $DEMO_TRACK from the Debian package $MUSIC_PACKAGE; install that package (or put the file there)"
fi
# Home Assistant's camera integration loads libturbojpeg at start and logs a traceback without it.
install_debian_package libturbojpeg0 "JPEG library for Home Assistant's camera integration" \
    || log "WARNING: without libturbojpeg, Home Assistant logs 'Unable to locate turbojpeg library' at start (harmless)"
log "Home Assistant $(ha_version_in "$VENV") on Python $(python_version_of "$VENV/bin/python")"

if curl -s -o /dev/null --max-time 2 "http://localhost:$PORT/"; then
    die "something already answers on port $PORT; stop it or set MUSIC_MOOD_DEMO_PORT"
fi
if [[ "$PORT" != 8123 ]]; then
    "$VENV/bin/python" demo/seed.py "$CONFIG_DIR" "$PORT"
else
    "$VENV/bin/python" demo/seed.py "$CONFIG_DIR"
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
RUN_STARTED="$(date +%s.%N)"
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
    # Let the analyser run a while, then stop so the recorder flushes its database. demo/check.py judges
    # this run only: its log (Home Assistant starts a new one each run) and the recorder rows since start.
    sleep "${MUSIC_MOOD_DEMO_CHECK_SECONDS:-90}"
    stop_home_assistant
    "$VENV/bin/python" demo/check.py "$CONFIG_DIR" --since "$RUN_STARTED" --until "$(date +%s.%N)" >&2 \
        || die "the demo check failed (above; log: $LOG_FILE)"
    log "check passed: the UI answered on http://localhost:$PORT; Music Mood logged no errors, nothing crashed,"
    log "and this run's Music Mood sensors and the demo light changed"
    exit 0
fi

log "Home Assistant is up: open http://localhost:$PORT and create the onboarding user; the Music Mood"
log "dashboard opens with the mood, valence, arousal and the Kitchen Lights. Ctrl-C stops it."
wait "$HA_PID"
