#!/usr/bin/env bash
# Installs what Hài Lòng needs on a Debian machine, then creates the virtualenvs from the lock files.
#   scripts/setup.sh runtime   # broker, fonts, Qt's system libraries; .venv with every role (the demo)
#   scripts/setup.sh test      # the above plus the test needs; .venv on Python 3.11 and .venv313
#                              # on Python 3.13, both from requirements/test.txt
# Python packages come from requirements/*.txt only (exact versions with hashes, `make lock`), so
# the versions tested are the versions shipped. PYTHON / PYTHON313 name the interpreters.
# Idempotent: apt runs only for packages that are missing; pip only when a lock or pyproject.toml
# changed.
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-runtime}"
case "$mode" in runtime | test) ;; *) echo "usage: $0 [runtime|test]" >&2; exit 2 ;; esac
runtime_pkgs=(
  mosquitto mosquitto-clients fonts-dejavu-core fonts-wqy-microhei libpulse0 libusb-1.0-0
  libgl1 libegl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3
  libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0
  libxcb-randr0 libxcb-render-util0 libxcb-image0
)
test_pkgs=(
  chromium    # a real browser for the web pages' tests
  postgresql  # initdb/pg_ctl: the tests start their own throw-away cluster (tests/conftest.py)
  poppler-utils  # pdftoppm: the quarterly PDF report rendered to PNG (tests/hub/exports/)
  nginx       # `nginx -t` checks the shipped reverse proxy configuration
  systemd     # `systemd-analyze verify` checks the shipped units
  prometheus  # `promtool check rules` checks the shipped alert rules
  cage grim xwayland  # the Pi kiosk's compositor run headless, its screen taken (tests/deploy/)
)
# Debian starts these as system services when it installs them; the project runs its own (its
# broker on 18830, a throw-away PostgreSQL cluster per test run) and needs only the tools.
daemons=(mosquitto postgresql nginx prometheus)

die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

# find_python 3.13 [PATH]: a Python of that version: PATH if given, else python3.13 on PATH or
# among pyenv's versions (a pyenv shim on PATH fails for a version installed but not selected).
find_python() {
  local want=$1 candidate candidates=("${2:-}")
  if [ -z "${2:-}" ]; then
    candidates=("python$want")
    if command -v pyenv >/dev/null; then
      candidates+=("$(pyenv root)/versions/$want"*/bin/"python$want")
    fi
  fi
  for candidate in "${candidates[@]}"; do
    if "$candidate" -c "import sys; sys.exit('%d.%d' % sys.version_info[:2] != '$want')" 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

# venvs: folder, interpreter, lock file, one per line.
if [ "$mode" = test ]; then
  python=$(find_python 3.11 "${PYTHON:-}") ||
    die "no Python 3.11${PYTHON:+ at $PYTHON} (the whole suite runs on it): install it (apt install python3.11-venv, or pyenv install 3.11) or set PYTHON=/path/to/python3.11"
  python313=$(find_python 3.13 "${PYTHON313:-}") ||
    die "no Python 3.13${PYTHON313:+ at $PYTHON313} (the kiosk's, the bridge's and the contract's tests also run on it): install it (apt install python3.13-venv, or pyenv install 3.13) or set PYTHON313=/path/to/python3.13"
  venvs=(".venv $python requirements/test.txt" ".venv313 $python313 requirements/test.txt")
else
  python="${PYTHON:-python3}"
  "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null ||
    die "$python is not Python 3.11 or newer: set PYTHON=/path/to/python3"
  venvs=(".venv $python requirements/all.txt")
fi

# Debian's interpreters lack venv/ensurepip until pythonX.Y-venv is installed.
for spec in "${venvs[@]}"; do
  read -r _ interpreter _ <<<"$spec"
  if ! "$interpreter" -c "import venv, ensurepip" 2>/dev/null; then
    runtime_pkgs+=("$(basename "$interpreter")-venv")
  fi
done

missing=()
wanted=("${runtime_pkgs[@]}")
[ "$mode" = test ] && wanted+=("${test_pkgs[@]}")
for pkg in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "==> apt-get install ${missing[*]}"
  $sudo apt-get update -qq
  # Debian starts a daemon as soon as its package is installed (Mosquitto on 1883, PostgreSQL on
  # 5432): a policy-rc.d that refuses (exit 101) keeps them from starting during this install,
  # with or without systemd (a policy-rc.d the system already has is left as it is).
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
    $sudo chmod 755 "$policy"
    trap '$sudo rm -f "$policy"' EXIT
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # ...and off at boot too.
  for pkg in "${missing[@]}"; do
    [[ " ${daemons[*]} " == *" $pkg "* ]] || continue
    echo "==> disabling Debian's $pkg service (installed for its tools; the project runs its own)"
    if [ -d /run/systemd/system ]; then
      $sudo systemctl disable --quiet --now "$pkg.service" 2>/dev/null || true
    else
      $sudo service "$pkg" stop >/dev/null 2>&1 || true
      $sudo update-rc.d "$pkg" disable >/dev/null 2>&1 || true
    fi
  done
fi

for spec in "${venvs[@]}"; do
  read -r venv interpreter lock <<<"$spec"
  want=$("$interpreter" -c 'import sys; print(*sys.version_info[:2], sep=".")')
  have=$("$venv/bin/python" -c 'import sys; print(*sys.version_info[:2], sep=".")' 2>/dev/null || true)
  if [ "$have" != "$want" ]; then
    echo "==> creating $venv (Python $want)"
    rm -rf "$venv"
    "$interpreter" -m venv "$venv"
  fi
  stamp="$venv/.installed-$(basename "$lock" .txt)"
  if [ ! -f "$stamp" ] || [ "$lock" -nt "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    echo "==> $venv: pip install --require-hashes -r $lock, then the project (--no-deps -e .)"
    pip=("$venv/bin/python" -m pip --disable-pip-version-check --quiet)
    "${pip[@]}" install --require-hashes -r "$lock"
    "${pip[@]}" install --no-deps -e .
    touch "$stamp"
  fi
done
