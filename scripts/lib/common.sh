# Shared helpers for scripts/test.sh, scripts/lint.sh and scripts/demo.sh. Source it; do not run it.
# shellcheck shell=bash

# Command substitutions must stop at the first failure too, not carry on with an empty result.
shopt -s inherit_errexit

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
MUSIC_MOOD_CACHE="${MUSIC_MOOD_CACHE:-$HOME/.cache/music_mood}"
export MUSIC_MOOD_CACHE

# Pins shared by test.sh, lint.sh and demo.sh. pytest-homeassistant-custom-component pins Home Assistant
# exactly: 0.13.236 = Home Assistant 2025.4.4 (hacs.json's minimum), 0.13.375 = Home Assistant 2026.10.4.
# torch for the training venv; it must lie in pyproject.toml's [training] range (tests/training checks).
TORCH_PIN="torch==2.13.0"
HA_MIN_PINS="pytest-homeassistant-custom-component==0.13.236 ha-ffmpeg==3.2.2 pyserial==3.5 threadpoolctl==3.6.0 onnxruntime==1.32.0"
HA_NEW_PINS="pytest-homeassistant-custom-component==0.13.375 ha-ffmpeg==3.2.2 pyserial==3.5 threadpoolctl==3.6.0"
LINT_PINS="ruff==0.17.6 mypy==2.4.1"
SENDSPIN_SERVER_PINS="aiosendspin[server]==10.2.1"
# Where torch comes from besides PyPI: PyTorch's CPU wheel index, because PyPI's Linux wheel is the CUDA
# build (5.9 GB with its nvidia libraries) and the CPU one (2.13.0+cpu, 183 MB) sorts above it. An
# unreachable index only costs pip's retries. MUSIC_MOOD_TORCH_INDEX_URL="" uses PyPI alone.
TORCH_INDEX_URL="${MUSIC_MOOD_TORCH_INDEX_URL-https://download.pytorch.org/whl/cpu}"
TORCH_INDEX_ARGS="${TORCH_INDEX_URL:+--extra-index-url $TORCH_INDEX_URL}"

log() { printf '\033[1m[music_mood]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[music_mood] ERROR:\033[0m %s\n' "$*" >&2; exit 1; }

# ensure_programs PROGRAM:APT_PACKAGE ...: apt-get installs the packages of missing programs. Only root can;
# anyone else is told what to install.
ensure_programs() { ensure_installed program "$@"; }

# ensure_files PATH:APT_PACKAGE ...: the same for data files that packages ship (e.g. a soundfont).
ensure_files() { ensure_installed file "$@"; }

# ensure_installed program|file NAME:APT_PACKAGE ...
ensure_installed() {
    local kind="$1"
    shift
    local missing=() packages=() spec name package
    for spec in "$@"; do
        name="${spec%%:*}"; package="${spec#*:}"
        if [[ $kind == program ]]; then
            command -v "$name" >/dev/null 2>&1 && continue
        else
            [[ -e "$name" ]] && continue
        fi
        missing+=("$name")
        [[ " ${packages[*]} " == *" $package "* ]] || packages+=("$package")
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    if [[ $(id -u) -ne 0 ]]; then
        die "missing ${kind}s: ${missing[*]}. Install them ('sudo apt-get install ${packages[*]}') or run this script as root."
    fi
    command -v apt-get >/dev/null 2>&1 || die "missing ${kind}s: ${missing[*]}, and no apt-get to install them with."
    log "installing ${packages[*]} with apt-get"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
}

# Prints "X.Y.Z" for an interpreter, or nothing if it does not run.
python_version_of() {
    "$1" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null || true
}

# version_at_least 3.13.1 3.13.0 -> true
version_at_least() {
    [[ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -1)" == "$2" ]]
}

# find_python MINOR MINIMUM: prints the path of a CPython 3.MINOR interpreter whose version is at least
# MINIMUM and which can create venvs (has ensurepip), looking on PATH, in pyenv and in the usual prefixes.
find_python() {
    local minor="$1" minimum="$2" candidate version
    local pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
    local candidates=()
    if command -v "python3.$minor" >/dev/null 2>&1; then candidates+=("$(command -v "python3.$minor")"); fi
    # Newest pyenv build first.
    while IFS= read -r candidate; do candidates+=("$candidate"); done < <(
        ls -d "$pyenv_root"/versions/3."$minor".*/bin/python3."$minor" 2>/dev/null | sort -rV)
    candidates+=("/usr/local/bin/python3.$minor" "/usr/bin/python3.$minor" "/opt/python3.$minor/bin/python3.$minor")
    for candidate in "${candidates[@]}"; do
        [[ -x "$candidate" ]] || continue
        version="$(python_version_of "$candidate")"
        [[ "$version" == 3."$minor".* ]] || continue
        version_at_least "$version" "$minimum" || continue
        "$candidate" -c 'import ensurepip, venv' >/dev/null 2>&1 || continue
        printf '%s\n' "$candidate"
        return 0
    done
    return 1
}

# ensure_venv NAME PYTHON_SPEC EXTRA_HASH_INPUT -- PIP_STEP [-- PIP_STEP ...]
# Creates (or reuses) ${MUSIC_MOOD_CACHE}/venvs/NAME-HASH and prints its path. HASH covers the interpreter
# version, the pip steps and EXTRA_HASH_INPUT, so changing a pin builds a new venv. A stamp file written
# last marks a finished install: a venv without it (interrupted build) is deleted and rebuilt.
# PYTHON_SPEC is an interpreter path, or "private-3.14" for the interpreter scripts/build_python314.sh makes.
# Each PIP_STEP is one `pip install` argument list, run in order.
ensure_venv() {
    local name="$1" python_spec="$2" extra="$3"
    shift 3
    [[ "${1:-}" == "--" ]] && shift
    local steps=() current=""
    local arg
    for arg in "$@"; do
        if [[ "$arg" == "--" ]]; then steps+=("$current"); current=""; else current+="${current:+ }$arg"; fi
    done
    [[ -n "$current" ]] && steps+=("$current")

    local python_version
    if [[ "$python_spec" == "private-3.14" ]]; then
        python_version="private-$(bash "$REPO_ROOT/scripts/build_python314.sh" --version)"
    else
        python_version="$(python_version_of "$python_spec")"
    fi
    local hash
    hash="$(printf '%s\n' "$python_version" "$extra" "${steps[@]}" | sha256sum | cut -c1-12)"
    local venv="$MUSIC_MOOD_CACHE/venvs/$name-$hash"
    if [[ -f "$venv/.music_mood_complete" ]]; then
        printf '%s\n' "$venv"
        return 0
    fi
    rm -rf "$venv"
    mkdir -p "$MUSIC_MOOD_CACHE/venvs"
    # pip's chatter goes to a log beside the venv; it is shown only when something fails.
    local install_log="$venv.log"
    log "building venv $name ($python_version) in $venv (log: $install_log)"
    : > "$install_log"
    if [[ "$python_spec" == "private-3.14" ]]; then
        bash "$REPO_ROOT/scripts/build_python314.sh" --venv "$venv" >>"$install_log" 2>&1 \
            || { tail -n 30 "$install_log" >&2; die "could not build the private Python 3.14 (log above)"; }
    else
        "$python_spec" -m venv "$venv" >>"$install_log" 2>&1 \
            || { tail -n 30 "$install_log" >&2; die "$python_spec could not create a venv (log above)"; }
    fi
    "$venv/bin/python" -m pip install -q --upgrade pip >>"$install_log" 2>&1 || true
    local step
    for step in "${steps[@]}"; do
        log "  pip install $step"
        # Word splitting is wanted: a step is a space-separated pip argument list.
        # shellcheck disable=SC2086
        (cd "$REPO_ROOT" && "$venv/bin/python" -m pip install -q $step) >>"$install_log" 2>&1 || {
            tail -n 40 "$install_log" >&2
            rm -rf "$venv"
            die "pip install $step failed for venv $name (log above, full log: $install_log)"
        }
    done
    printf '%s\n' "$python_version" > "$venv/.music_mood_complete"
    printf '%s\n' "$venv"
}

# Prints Home Assistant's version as installed in a venv.
ha_version_in() {
    "$1/bin/python" -c 'from homeassistant.const import __version__; print(__version__)'
}

# The environments. Each prints its venv path, building it first when needed.
training_venv() {
    local python
    python="$(find_python 11 3.11.0)" || die "the training environment needs Python 3.11 (with venv/ensurepip): none found on PATH, in pyenv (${PYENV_ROOT:-~/.pyenv}/versions) or in /usr/bin, /usr/local/bin. Install one, e.g. 'pyenv install 3.11'."
    local venv
    # The editable install reads pyproject.toml's extras, so its content is part of the key. pyserial: the
    # core's strip driver (tests/core) needs it, and the [training] extra does not list it.
    venv="$(ensure_venv training "$python" "pyproject:$(sha256sum "$REPO_ROOT/pyproject.toml" | cut -c1-16)" \
        -- "$TORCH_PIN $TORCH_INDEX_ARGS" -- "-e .[training] pytest-asyncio pyserial==3.5" -- "$LINT_PINS")"
    # A cached venv may have been installed editable from another clone: point it at this one.
    if [[ "$("$venv/bin/python" -c 'import training, pathlib; print(pathlib.Path(training.__file__).resolve().parents[1])' 2>/dev/null)" != "$REPO_ROOT" ]]; then
        (cd "$REPO_ROOT" && "$venv/bin/python" -m pip install -q --no-deps -e .) >>"$venv.log" 2>&1
    fi
    printf '%s\n' "$venv"
}

python313() {
    find_python 13 3.13.0 || die "Home Assistant 2025.4.4 needs Python 3.13 (>= 3.13.0, with venv/ensurepip): none found on PATH, in pyenv or in /usr/bin, /usr/local/bin. Install one, e.g. 'pyenv install 3.13'."
}

# Prints a Python >= 3.14.2 interpreter, or "private-3.14" (scripts/build_python314.sh) when none is installed.
python314() {
    find_python 14 3.14.2 && return 0
    log "no Python >= 3.14.2 installed: using a private one from scripts/build_python314.sh"
    printf 'private-3.14\n'
}

# ha_venv NAME PYTHON -- PINS... [-- PINS...]: the venv NAME (ensure_venv) with Home Assistant from the
# pins, plus the requirements of the Home Assistant integrations the integration imports.
ha_venv() {
    local name="$1" python="$2"
    shift 2
    local venv
    venv="$(ensure_venv "$name" "$python" "" "$@")"
    pin_transitive_requirements "$venv"
    install_ha_requirements "$venv" --imported-by "$REPO_ROOT/custom_components/music_mood"
    printf '%s\n' "$venv"
}

# The pins for what a venv's Home Assistant needs only indirectly (the file may not exist).
transitive_pins_of() {
    printf '%s/scripts/lib/constraints/homeassistant-%s.txt\n' "$REPO_ROOT" "$(ha_version_in "$1")"
}

# pin_transitive_requirements VENV: installs transitive_pins_of VENV (pip would otherwise take the newest
# release of such a package, which an older Home Assistant may not work with: pycares 5 under aiodns
# 3.2.0 fails every DNS lookup), then checks that Home Assistant's DNS resolver works in VENV. Run on
# every use, as Home Assistant itself may have changed the venv since (see below).
pin_transitive_requirements() {
    local venv="$1" pins ha_constraints marker
    pins="$(transitive_pins_of "$venv")"
    if [[ -f "$pins" ]]; then
        marker="# Music Mood: transitive pins (scripts/lib/constraints) $(sha256sum "$pins" | cut -c1-12)"
        "$venv/bin/python" -m pip install -q -r "$pins" >>"$venv.log" 2>&1 \
            || { tail -n 40 "$venv.log" >&2; die "could not install $pins into $venv (log above)"; }
        # Home Assistant installs the requirements of integrations set up at run time (onboarding's Radio
        # Browser, say) with `uv pip install --upgrade`, which upgrades everything its constraints allow
        # (it put pycares 5 back). It passes its package_constraints.txt to every such install: our pins
        # go there too.
        ha_constraints="$("$venv/bin/python" "$REPO_ROOT/scripts/lib/ha_requirements.py" --constraints)"
        if ! grep -q -x -F "$marker" "$ha_constraints"; then
            # An earlier version of our block is the file's tail: replaced, not added to.
            sed -i '/^# Music Mood: transitive pins /,$d' "$ha_constraints"
            [[ -z "$(tail -c 1 "$ha_constraints")" ]] || printf '\n' >> "$ha_constraints"
            { printf '%s\n' "$marker"; grep -v -E '^[[:space:]]*(#|$)' "$pins"; } >> "$ha_constraints"
        fi
    fi
    "$venv/bin/python" "$REPO_ROOT/scripts/lib/check_dns_resolver.py" \
        || die "Home Assistant in $venv cannot resolve names (above): pin a working aiodns/pycares pair in $pins"
}

ha_min_venv() {
    local python
    python="$(python313)"
    # shellcheck disable=SC2086
    ha_venv ha-min "$python" -- $HA_MIN_PINS
}

ha_new_venv() {
    local python
    python="$(python314)"
    # shellcheck disable=SC2086
    ha_venv ha-new "$python" -- $HA_NEW_PINS
}

# The real Sendspin server the Sendspin tests stream from (aiosendspin's own server role, run as a child
# process): a venv of its own, because aiosendspin needs zeroconf >= 0.147 and its server an aiohttp >= 3.12,
# both above what Home Assistant 2025.4.4 pins. The tests find it through MUSIC_MOOD_SENDSPIN_SERVER_PYTHON.
sendspin_server_venv() {
    local python
    python="$(python313)"
    ensure_venv sendspin-server "$python" "" -- "$SENDSPIN_SERVER_PINS"
}

# Home Assistant's oldest supported version plus ruff and mypy: mypy needs Home Assistant's types.
lint_venv() {
    local python
    python="$(python313)"
    # shellcheck disable=SC2086
    ha_venv lint "$python" -- $HA_MIN_PINS -- $LINT_PINS
}

# install_ha_requirements [--best-effort] VENV ARGS...: pip-installs what scripts/lib/ha_requirements.py
# ARGS lists (the requirements of Home Assistant integrations), pinned by Home Assistant's
# package_constraints.txt. The list depends on the source (the integrations it imports), so it is
# re-checked on every run. --best-effort installs what it can and warns about the rest (a package with no
# wheel for this Python that cannot be built here); Home Assistant then reports that integration as failed.
install_ha_requirements() {
    local best_effort=0
    if [[ "$1" == "--best-effort" ]]; then best_effort=1; shift; fi
    local venv="$1"
    shift
    local helper="$REPO_ROOT/scripts/lib/ha_requirements.py" requirements constraints key requirement
    requirements="$("$venv/bin/python" "$helper" "$@")"
    constraints="$("$venv/bin/python" "$helper" --constraints)"
    # Our transitive pins hold for these installs too: a requirement must not pull a newer pycares.
    local pins constraint_args=(-c "$constraints")
    pins="$(transitive_pins_of "$venv")"
    [[ -f "$pins" ]] && constraint_args+=(-c "$pins")
    key="$(printf '%s\n' "$requirements" | sha256sum | cut -c1-16)"
    [[ "$(cat "$venv/.music_mood_ha_requirements" 2>/dev/null)" == "$key" ]] && return 0
    if [[ -n "$requirements" ]]; then
        log "  pip install (Home Assistant integration requirements) $(printf '%s ' $requirements)"
        # shellcheck disable=SC2086
        if ! "$venv/bin/python" -m pip install -q "${constraint_args[@]}" $requirements >>"$venv.log" 2>&1; then
            if [[ $best_effort -eq 0 ]]; then
                tail -n 40 "$venv.log" >&2
                die "could not install Home Assistant integration requirements into $venv (log above)"
            fi
            for requirement in $requirements; do
                "$venv/bin/python" -m pip install -q "${constraint_args[@]}" "$requirement" >>"$venv.log" 2>&1 \
                    || log "  WARNING: $requirement cannot be installed here (see $venv.log); Home Assistant will report the integrations needing it as failed"
            done
        fi
    fi
    printf '%s\n' "$key" > "$venv/.music_mood_ha_requirements"
}
