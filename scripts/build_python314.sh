#!/usr/bin/env bash
# A private CPython 3.14 for machines whose distribution has none (Home Assistant 2026.3+ needs >= 3.14.2).
#
# It downloads Debian sid's python3.14 packages together with sid's C library (3.14 is built against a newer
# glibc than older Debian releases ship) and unpacks them into a private prefix: nothing is installed
# system-wide and no root is needed. Programs from the prefix run through the prefix's own dynamic loader
# (ld.so --library-path PREFIX_LIBS), so the host's libc is never mixed in. A venv made from it gets a
# small `python3.14` wrapper script that does exactly that.
#
# Usage:
#   bash scripts/build_python314.sh --venv DIR   build (or reuse) the prefix, then create a venv at DIR
#   bash scripts/build_python314.sh --version    build (or reuse) the prefix, print its Python version
# The prefix is cached in ${MUSIC_MOOD_CACHE:-$HOME/.cache/music_mood}/python314 (stamp file = complete).
set -euo pipefail

CACHE="${MUSIC_MOOD_CACHE:-$HOME/.cache/music_mood}"
WORK="$CACHE/python314"
ROOT="$WORK/root"
STAMP="$WORK/.complete"
PACKAGES=(python3.14 python3.14-minimal libpython3.14-minimal libpython3.14-stdlib python3-pip-whl
    libc6 libssl3t64 libffi8 libsqlite3-0 libexpat1 zlib1g libbz2-1.0 liblzma5 libzstd1 libncursesw6
    libtinfo6 libreadline8t64 libuuid1 libdb5.3t64 libgcc-s1 libstdc++6 libmpdec4 media-types tzdata netbase)
# Python's C headers: pip builds packages without a wheel for 3.14 (Home Assistant's voice pipeline needs
# two) with the host's compiler against them.
HEADER_PACKAGES=(libpython3.14-dev python3.14-dev)

say() { printf '[build_python314] %s\n' "$*" >&2; }

case "$(uname -m)" in
    x86_64) TRIPLET=x86_64-linux-gnu; LOADER=ld-linux-x86-64.so.2 ;;
    aarch64) TRIPLET=aarch64-linux-gnu; LOADER=ld-linux-aarch64.so.1 ;;
    *) say "unsupported machine $(uname -m): install Python >= 3.14.2 yourself"; exit 1 ;;
esac
LIBS="$ROOT/usr/lib/$TRIPLET"
LD="$LIBS/$LOADER"
PY="$ROOT/usr/bin/python3.14"

build_prefix() {
    [[ -f "$STAMP" ]] && return 0
    for tool in apt-get dpkg-deb; do
        command -v "$tool" >/dev/null 2>&1 || { say "needs $tool (a Debian/Ubuntu host); or install Python >= 3.14.2 yourself"; exit 1; }
    done
    local keyring=/usr/share/keyrings/debian-archive-keyring.gpg
    [[ -f "$keyring" ]] || { say "needs $keyring (apt-get install debian-archive-keyring)"; exit 1; }
    say "downloading Debian sid's python3.14 into $WORK (about 45 MB)"
    rm -rf "$WORK"
    mkdir -p "$WORK/apt/lists/partial" "$WORK/apt/cache/archives/partial" "$WORK/apt/parts" "$WORK/debs" "$ROOT"
    printf 'deb [signed-by=%s] http://deb.debian.org/debian sid main\n' "$keyring" > "$WORK/apt/sources.list"
    apt-get "${APT_OPTIONS[@]}" update -qq
    (cd "$WORK/debs" && apt-get "${APT_OPTIONS[@]}" download -qq "${PACKAGES[@]}" "${HEADER_PACKAGES[@]}")
    local deb
    for deb in "$WORK"/debs/*.deb; do dpkg-deb -x "$deb" "$ROOT"; done
    "$LD" --library-path "$LIBS" "$PY" -c 'import ssl, sqlite3, ctypes, lzma, bz2, zlib' \
        || { say "the unpacked interpreter is broken"; exit 1; }
    touch "$STAMP"
}

# A prefix made before the headers were part of it gets them added; nothing in it is replaced, so venvs
# running from it are not disturbed.
add_headers() {
    [[ -f "$ROOT/usr/include/python3.14/Python.h" ]] && return 0
    say "adding Python 3.14's C headers to $WORK"
    apt-get "${APT_OPTIONS[@]}" update -qq
    (cd "$WORK/debs" && apt-get "${APT_OPTIONS[@]}" download -qq "${HEADER_PACKAGES[@]}")
    local package deb
    for package in "${HEADER_PACKAGES[@]}"; do
        for deb in "$WORK"/debs/"${package}"_*.deb; do dpkg-deb -x "$deb" "$ROOT"; done
    done
}

# The lists and packages go to folders of the user running this, which apt's own download user (_apt)
# may not be able to enter: apt would fall back to downloading as this user, with an "unsandboxed"
# warning per file. Downloading as this user from the start is the same thing, without the warnings.
APT_OPTIONS=(-o "Dir::Etc::sourcelist=$WORK/apt/sources.list" -o "Dir::Etc::sourceparts=$WORK/apt/parts"
    -o "Dir::State::Lists=$WORK/apt/lists" -o "Dir::Cache=$WORK/apt/cache" -o "Debug::NoLocking=1"
    -o "APT::Sandbox::User=$(id -un)")

make_venv() {
    local venv="$1"
    rm -rf "$venv"
    "$LD" --library-path "$LIBS" "$PY" -m venv --without-pip "$venv"
    rm -f "$venv"/bin/python "$venv"/bin/python3 "$venv"/bin/python3.14
    # --argv0 keeps the venv's path as the program name, so the interpreter finds pyvenv.cfg. CPATH: the
    # prefix's pyconfig.h includes <TRIPLET/python3.14/pyconfig.h>, which the compiler looks for in
    # /usr/include unless told about the prefix's include folder (it holds Python's headers only).
    printf '#!/bin/sh\nCPATH=%s${CPATH:+:$CPATH}; export CPATH\nexec %s --library-path %s --argv0 "$0" %s "$@"\n' \
        "$ROOT/usr/include" "$LD" "$LIBS" "$PY" > "$venv/bin/python3.14"
    chmod +x "$venv/bin/python3.14"
    ln -s python3.14 "$venv/bin/python"
    ln -s python3.14 "$venv/bin/python3"
    local pip_wheel
    pip_wheel="$(ls "$ROOT"/usr/share/python-wheels/pip-*.whl | head -1)"
    "$venv/bin/python" "$pip_wheel/pip" install -q --no-index "$pip_wheel"
}

case "${1:-}" in
    --version)
        build_prefix >&2
        "$LD" --library-path "$LIBS" "$PY" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])'
        ;;
    --venv)
        [[ -n "${2:-}" ]] || { say "usage: $0 --venv DIR"; exit 2; }
        build_prefix >&2
        add_headers >&2
        make_venv "$2"
        "$2/bin/python" -VV >&2
        ;;
    *)
        say "usage: $0 --venv DIR | --version"; exit 2 ;;
esac
