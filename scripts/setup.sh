#!/usr/bin/env bash
# Installs what Hài Lòng needs on a Debian machine, then creates .venv with the project in it.
#   scripts/setup.sh runtime   # broker, fonts, Qt's system libraries
#   scripts/setup.sh test      # the above plus the test extras
# Idempotent: apt runs only for packages that are missing; pip only when pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-runtime}"
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
)

python="${PYTHON:-python3}"
# Debian's python3 lacks venv/ensurepip until python3-venv is installed.
if ! "$python" -c "import venv, ensurepip" 2>/dev/null; then
  runtime_pkgs+=(python3-venv)
fi

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
  # Debian starts a system mosquitto on 1883 when it can; ours runs on its own port (config/).
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  "$python" -m venv .venv
fi
extras=""
[ "$mode" = test ] && extras="[test]"
stamp=".venv/.installed-${mode}"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "==> pip install -e .${extras}"
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extras}"
  touch "$stamp"
fi
