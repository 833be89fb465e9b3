#!/usr/bin/env bash
# Static checks: ruff (lint + format) on the whole repository, mypy --strict on the integration (against
# Home Assistant 2025.4.4's types, Python 3.13) and on training/ (Python 3.11, with torch).
#
#   bash scripts/lint.sh      prints every finding and a summary; exit status 1 if anything was found
#
# Uses the same cached venvs as scripts/test.sh (plus a "lint" one); see there for what they need.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$REPO_ROOT"

LINT_VENV="$(lint_venv)"
TRAIN_VENV="$(training_venv)"
RESULTS=()
FOUND=0

check() {
    local label="$1"
    shift
    log "=== $label: $* ==="
    if "$@"; then
        RESULTS+=("$(printf '%-40s clean' "$label")")
    else
        RESULTS+=("$(printf '%-40s FINDINGS (above)' "$label")")
        FOUND=1
    fi
}

check "ruff check" "$LINT_VENV/bin/ruff" check --output-format concise .
check "ruff format --check" "$LINT_VENV/bin/ruff" format --check .
check "mypy --strict custom_components" "$LINT_VENV/bin/python" -m mypy -p custom_components.music_mood
# training/ imports the core as the top-level package music_mood_core (pyproject's package-dir mapping,
# which mypy does not follow through an editable install): point mypy at the folder that holds it.
check "mypy --strict training" env MYPYPATH=custom_components/music_mood \
    "$TRAIN_VENV/bin/python" -m mypy --python-version 3.11 training

log "=== lint summary ==="
for line in "${RESULTS[@]}"; do printf '  %s\n' "$line" >&2; done
exit $FOUND
