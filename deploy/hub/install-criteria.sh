#!/usr/bin/env bash
# Installs the official indices' criteria sets (config/criteria/*.toml) where an installed hub
# reads them: criteria/ beside its configuration, /etc/hailong/criteria/ for
# /etc/hailong/hub.toml (hub/indices.py `criteria_folder`; the web reports read the folder beside
# the unit file, also /etc/hailong). Run as root from the repository copy, at installation and
# after every upgrade (a new criteria version ships as a new file):
#
#   sudo deploy/hub/install-criteria.sh [ETC]      # ETC: default /etc/hailong
#
# A criteria version is never changed in place (a change of rules is a new version, and old
# quarters keep the rules of their time), so a file already installed is never overwritten: one
# that differs from the shipped one is kept, with a warning to compare them. Files the province
# added (its own versions) are left alone. See deploy/hub/README.md and docs/indices.md.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
ETC=${1:-/etc/hailong}
SOURCE=$REPO/config/criteria
TARGET=$ETC/criteria

say() { printf '==> %s\n' "$*"; }
warn() { printf 'WARNING: %s\n' "$*" >&2; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

case "${1:-}" in
  -h | --help) sed -n '2,13p' "$0"; exit 0 ;;
esac
shopt -s nullglob
shipped=("$SOURCE"/*.toml)
[ "${#shipped[@]}" -gt 0 ] || die "$SOURCE: no criteria file (*.toml): not a Hài Lòng repository?"

install -d -m 0755 "$TARGET"
for file in "${shipped[@]}"; do
  name=$(basename "$file")
  if [ ! -e "$TARGET/$name" ]; then
    install -m 0644 "$file" "$TARGET/$name"
    say "installed $TARGET/$name"
  elif cmp -s "$file" "$TARGET/$name"; then
    say "$TARGET/$name is up to date"
  else
    warn "$TARGET/$name differs from the shipped $SOURCE/$name: kept as it is (a criteria version never changes in place; compare them: diff $SOURCE/$name $TARGET/$name)"
  fi
done
