#!/usr/bin/env bash
# Sets up everything and runs every test suite, on a fresh machine or a warm one.
#
#   bash scripts/test.sh                 all three environments
#   bash scripts/test.sh training ha-min only the named environments (training, ha-min, ha-new)
#   MUSIC_MOOD_TEST_ENVS="ha-new" bash scripts/test.sh   the same, from the environment
#
# Environments (each a venv cached under ${MUSIC_MOOD_CACHE:-~/.cache/music_mood}/venvs, keyed by a hash of
# its pins and interpreter version, so a second run only runs the tests):
#   training  Python 3.11, torch + the [training] extra   pytest tests/core tests/training
#   ha-min    Python 3.13, Home Assistant 2025.4.4 (the   pytest tests/core tests/integration, then
#             oldest supported) + onnxruntime              tests/integration again with onnxruntime hidden
#                                                          (MUSIC_MOOD_HIDE_ONNXRUNTIME=1: the numpy runtime)
#   ha-new    Python 3.14, Home Assistant 2026.10.4       pytest tests/core tests/integration
#             (no onnxruntime: the numpy runtime)          then a fresh install (below)
#
# Fresh install: Home Assistant 2026.x does not require numpy, so a Core install may lack it. A second
# cached venv holds only the ha-new Home Assistant release (under its own package constraints); Home
# Assistant's requirement installer then installs the manifest's requirements into it and sets the
# integration up (scripts/lib/check_fresh_install.py). What it installed is removed again afterwards,
# so the venv stays without numpy for the next run.
#
# Every suite must collect tests: pytest's "no tests collected" (exit 5) counts as a failure, because an
# empty suite here always means a broken path or a broken conftest, never "nothing to test".
# After the totals, the skipped tests are listed grouped by reason (count, suite, reason), read from each
# suite's junit report before the reports are removed.
#
# tests/integration holds two tiers, run together: tests/integration/fast (the integration in Home
# Assistant on generated PCM, time on the freezer, syrupy snapshots; seconds) and the end-to-end tests
# beside it (real ffmpeg, serial ptys, streams and servers in real time). Run the fast tier alone with
# pytest tests/integration/fast.
#
# Coverage: every Home Assistant suite runs under pytest-cov (--cov=custom_components/music_mood). The
# runs' data are combined and scripts/lib/coverage_gate.py prints a table in the summary and gates it:
# config flows (config_flow*.py, flow_*.py) and diagnostics.py 100 %, the glue as a whole at its floor
# (GLUE_FLOOR_PCT there); the pure core is reported. A floor not met fails the run like a failed suite,
# where the data root is present; without it the tests that need real music skip and the floors are
# reported, not gated.
#
# Needs: root to apt-get install ffmpeg, socat, fluidsynth, fluid-soundfont-gm, snapserver and snapclient when missing (otherwise install them yourself), and access
# to PyPI (and to deb.debian.org when no Python 3.14 is installed). Exit status: 0 only if every suite passed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$REPO_ROOT"

ALL_ENVS=(training ha-min ha-new)
if [[ $# -gt 0 ]]; then SELECTED=("$@"); else read -r -a SELECTED <<< "${MUSIC_MOOD_TEST_ENVS:-${ALL_ENVS[*]}}"; fi
for name in "${SELECTED[@]}"; do
    [[ " ${ALL_ENVS[*]} " == *" $name "* ]] || die "unknown environment '$name' (choose from: ${ALL_ENVS[*]})"
done
selected() { [[ " ${SELECTED[*]} " == *" $1 "* ]]; }

ensure_programs ffmpeg:ffmpeg ffprobe:ffmpeg socat:socat fluidsynth:fluidsynth snapserver:snapserver snapclient:snapclient
# The loaders' tests render MIDI with the General MIDI soundfont the training renders use.
ensure_files /usr/share/sounds/sf2/FluidR3_GM.sf2:fluid-soundfont-gm

REPORT_DIR="$(mktemp -d)"
trap 'rm -rf "$REPORT_DIR"' EXIT
SUMMARY=()
REPORTS=()
REPORT_PYTHON=""
FAILED=0
TOTAL_PASSED=0
TOTAL_FAILED=0
TOTAL_SKIPPED=0

COVERAGE_RUNS=()
COVERAGE_PYTHON=""

# run_suite LABEL VENV HA_VERSION [--coverage] [VAR=VALUE ...] -- PYTEST_ARGS...
run_suite() {
    local label="$1" venv="$2" ha_version="$3"
    shift 3
    local env_vars=() coverage_args=()
    if [[ "${1:-}" == "--coverage" ]]; then
        shift
        local coverage_file="$REPORT_DIR/coverage.${label//[^A-Za-z0-9_.-]/_}"
        COVERAGE_RUNS+=("$coverage_file")
        COVERAGE_PYTHON="$venv/bin/python"
        env_vars+=("COVERAGE_FILE=$coverage_file")
        coverage_args=(--cov=custom_components/music_mood --cov-report=)
    fi
    while [[ $# -gt 0 && "$1" != "--" ]]; do env_vars+=("$1"); shift; done
    shift
    local junit="$REPORT_DIR/${label//[^A-Za-z0-9_.-]/_}.xml"
    REPORTS+=("$label=$junit")
    REPORT_PYTHON="$venv/bin/python"
    log "=== $label: Python $(python_version_of "$venv/bin/python"), Home Assistant $ha_version: pytest $* ==="
    local status=0
    env ${env_vars[@]+"${env_vars[@]}"} "$venv/bin/python" -m pytest -q -p no:cacheprovider --junitxml="$junit" \
        ${coverage_args[@]+"${coverage_args[@]}"} "$@" || status=$?
    local counts
    counts="$("$venv/bin/python" - "$junit" <<'PY'
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except (OSError, ET.ParseError):
    print("no report"); raise SystemExit
suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
total = {key: sum(int(s.get(key, 0)) for s in suites) for key in ("tests", "failures", "errors", "skipped")}
passed = total["tests"] - total["failures"] - total["errors"] - total["skipped"]
print(f"{passed} passed, {total['failures']} failed, {total['errors']} errors, {total['skipped']} skipped")
PY
)"
    if [[ "$counts" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed,\ ([0-9]+)\ errors,\ ([0-9]+)\ skipped$ ]]; then
        TOTAL_PASSED=$((TOTAL_PASSED + BASH_REMATCH[1]))
        TOTAL_FAILED=$((TOTAL_FAILED + BASH_REMATCH[2] + BASH_REMATCH[3]))
        TOTAL_SKIPPED=$((TOTAL_SKIPPED + BASH_REMATCH[4]))
    fi
    local verdict
    case $status in
        0) verdict="PASS" ;;
        5) verdict="FAIL (no tests collected: every suite must have tests)"; FAILED=1 ;;
        *) verdict="FAIL (pytest exit $status)"; FAILED=1 ;;
    esac
    SUMMARY+=("$(printf '%-28s Python %-8s HA %-10s %-46s %s' "$label" "$(python_version_of "$venv/bin/python")" \
        "$ha_version" "$counts" "$verdict")")
}

if selected training; then
    TRAIN_VENV="$(training_venv)"
    run_suite "training" "$TRAIN_VENV" "none" -- tests/core tests/training
fi

if selected ha-min || selected ha-new; then
    MUSIC_MOOD_SENDSPIN_SERVER_PYTHON="$(sendspin_server_venv)/bin/python"
    export MUSIC_MOOD_SENDSPIN_SERVER_PYTHON
fi

if selected ha-min; then
    HA_MIN_VENV="$(ha_min_venv)"
    HA_MIN_VERSION="$(ha_version_in "$HA_MIN_VENV")"
    run_suite "ha-min" "$HA_MIN_VENV" "$HA_MIN_VERSION" --coverage -- tests/core tests/integration
    run_suite "ha-min, onnxruntime hidden" "$HA_MIN_VENV" "$HA_MIN_VERSION" --coverage \
        MUSIC_MOOD_HIDE_ONNXRUNTIME=1 -- tests/integration
fi

# fresh_install_venv HA_VENV: the cached venv with HA_VENV's Home Assistant release and nothing else.
# The camera integration (an after-dependency) requires PyTurboJPEG, which itself requires numpy; it is
# installed without its dependencies, as if preinstalled, so that numpy can only come from our manifest.
# (It is also an sdist, which Home Assistant's uv cannot build with the private Python 3.14.)
fresh_install_venv() {
    local ha_venv="$1" version constraints camera_requirement venv
    version="$(ha_version_in "$ha_venv")"
    constraints="$("$ha_venv/bin/python" -c 'import homeassistant, pathlib; print(pathlib.Path(homeassistant.__file__).parent / "package_constraints.txt")')"
    camera_requirement="$("$ha_venv/bin/python" -c 'import json, homeassistant, pathlib; print(" ".join(json.loads((pathlib.Path(homeassistant.__file__).parent / "components/camera/manifest.json").read_text())["requirements"]))')"
    venv="$(ensure_venv ha-new-fresh "$(python314)" "" \
        -- "homeassistant==$version -c $constraints" -- "--no-deps $camera_requirement")"
    # A freshly built venv is the state every check starts from.
    [[ -f "$venv/.music_mood_baseline" ]] || "$venv/bin/python" -m pip freeze > "$venv/.music_mood_baseline"
    printf '%s\n' "$venv"
}

# restore_fresh_install_venv VENV: uninstalls whatever is not in the venv's baseline.
restore_fresh_install_venv() {
    local venv="$1" extra
    extra="$("$venv/bin/python" - "$venv/.music_mood_baseline" <<'PY'
import subprocess, sys
def names(lines):
    return {line.split("==")[0].split(" @ ")[0].strip().lower().replace("_", "-") for line in lines if line.strip()}
baseline = names(open(sys.argv[1], encoding="utf-8"))
now = subprocess.run([sys.executable, "-m", "pip", "freeze"], capture_output=True, text=True, check=True).stdout
print(" ".join(sorted(names(now.splitlines()) - baseline)))
PY
)"
    if [[ -n "$extra" ]]; then
        # shellcheck disable=SC2086
        "$venv/bin/python" -m pip uninstall -q -y $extra >>"$venv.log" 2>&1
    fi
}

run_fresh_install_check() {
    local ha_venv="$1" label="ha-new, fresh install" venv status=0 verdict
    venv="$(fresh_install_venv "$ha_venv")"
    restore_fresh_install_venv "$venv"
    log "=== $label: Home Assistant's requirement installer on the manifest, without numpy beforehand ==="
    "$venv/bin/python" "$REPO_ROOT/scripts/lib/check_fresh_install.py" "$REPO_ROOT" || status=$?
    restore_fresh_install_venv "$venv"
    if [[ $status -eq 0 ]]; then verdict="PASS"; else verdict="FAIL (exit $status)"; FAILED=1; fi
    SUMMARY+=("$(printf '%-28s Python %-8s HA %-10s %-46s %s' "$label" "$(python_version_of "$venv/bin/python")" \
        "$(ha_version_in "$venv")" "manifest requirements installed, set up" "$verdict")")
}

if selected ha-new; then
    HA_NEW_VENV="$(ha_new_venv)"
    HA_NEW_VERSION="$(ha_version_in "$HA_NEW_VENV")"
    run_suite "ha-new" "$HA_NEW_VENV" "$HA_NEW_VERSION" --coverage -- tests/core tests/integration
    run_fresh_install_check "$HA_NEW_VENV"
fi

COVERAGE_TABLE=""
if [[ ${#COVERAGE_RUNS[@]} -gt 0 ]]; then
    coverage_status=0
    COVERAGE_TABLE="$("$COVERAGE_PYTHON" "$REPO_ROOT/scripts/lib/coverage_gate.py" "$REPORT_DIR/coverage.combined" \
        "${COVERAGE_RUNS[@]}" 2>&1)" || coverage_status=$?
    if [[ $coverage_status -eq 0 ]]; then verdict="PASS"; else verdict="FAIL (floor not met)"; FAILED=1; fi
    SUMMARY+=("$(printf '%-28s %-74s %s' "coverage" "${COVERAGE_TABLE##*$'\n'}" "$verdict")")
fi

log "=== summary ==="
for line in "${SUMMARY[@]}"; do printf '  %s\n' "$line" >&2; done
if [[ -n "$COVERAGE_TABLE" ]]; then printf '%s\n' "$COVERAGE_TABLE" >&2; fi
# One plain closing line over every suite, for readers of the log that look only at its end.
printf 'total: %d passed, %d failed, %d skipped\n' "$TOTAL_PASSED" "$TOTAL_FAILED" "$TOTAL_SKIPPED"
if [[ -n "$REPORT_PYTHON" ]]; then
    "$REPORT_PYTHON" "$REPO_ROOT/scripts/lib/skip_summary.py" "${REPORTS[@]}" || log "could not summarise skips"
fi
if [[ $FAILED -ne 0 ]]; then log "some suites FAILED"; exit 1; fi
log "all suites passed"
