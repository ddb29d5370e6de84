#!/usr/bin/env bash
# Refreshes requirements/*.txt: the exact versions, with hashes, that scripts/setup.sh, CI and the
# Raspberry Pi install use.
#   make lock             # after a dependency changed in pyproject.toml: keeps every pin that fits
#   make lock UPGRADE=1   # every package to its newest version that fits
# then `make test`: what it tests is what ships.
#
# test.txt is one resolution for Python 3.11 and newer on every platform (environment markers where
# they differ, e.g. PySide6 by Python version); each role's lock is constrained to it, so no role
# ships a version the tests did not run. Every lock is then checked to have wheels for Linux on
# x86_64 and aarch64 (Debian 12 and 13) with Python 3.11 and 3.13: nothing to compile on a Pi.
set -euo pipefail
cd "$(dirname "$0")/.."

uv_version=0.13.9
tools=.venv-lock
if [ "$("$tools/bin/uv" --version 2>/dev/null)" != "uv $uv_version" ]; then
  python3 -m venv "$tools"
  "$tools/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$uv_version"
fi
uv="$tools/bin/uv"
compile=("$uv" pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes
  --custom-compile-command "make lock" --quiet)
upgrade=()
[ -n "${UPGRADE:-}" ] && upgrade=(--upgrade)

"${compile[@]}" "${upgrade[@]}" --extra test -o requirements/test.txt
"${compile[@]}" --extra all -c requirements/test.txt -o requirements/all.txt
# A hub runs on SQLite or PostgreSQL: its lock has the driver for both.
"${compile[@]}" --extra hub --extra postgresql -c requirements/test.txt -o requirements/hub.txt
"${compile[@]}" --extra kiosk -c requirements/test.txt -o requirements/kiosk.txt
"${compile[@]}" --extra bridge -c requirements/test.txt -o requirements/bridge.txt

for lock in requirements/*.txt; do
  for platform in x86_64-manylinux_2_36 aarch64-manylinux_2_39; do
    for python in 3.11 3.13; do
      "$uv" pip compile "$lock" --no-deps --only-binary :all: --python-platform "$platform" \
        --python-version "$python" --quiet -o /dev/null ||
        { echo "$lock: no wheel for $platform, Python $python (see above)" >&2; exit 1; }
    done
  done
done
echo "requirements/ locked: $(grep -c '^[a-z]' requirements/test.txt) pins in test.txt"
