#!/usr/bin/env bash
# Installs the Hài Lòng kiosk on a Raspberry Pi running Raspberry Pi OS Lite (64-bit, Debian 13).
# Run as root from a copy of the repository:
#
#   sudo deploy/raspberry-pi/install.sh [--secrets DIR] [--no-apt] [--no-boot-config] [--no-start]
#
#   --secrets DIR     copy the kiosk's secrets from DIR, laid out as the hub's var/secrets
#                     (mqtt/<id>.password, <id>.pin, receipt-keys-public/{*.pub,keys.toml});
#                     existing secrets are kept, the public receipt keys are replaced
#   --no-apt          do not install system packages
#   --no-boot-config  do not add consoleblank=0 to the kernel command line
#   --no-start        enable the service but do not (re)start it
#
# Idempotent: run it again after updating the repository copy to upgrade the app. It creates the
# `hailong` user, a venv in /opt/hailong/venv with the app, /etc/hailong (config, environment,
# secrets), the udev rule, the systemd unit and its PAM service (the kiosk runs full screen under
# the cage Wayland compositor, logged in on tty1 by systemd: no desktop, no password), and enables
# the unit. It never overwrites a secret, kiosk.toml or the udev rule once they exist, and changes
# an existing kiosk.env only to move it from eglfs to cage (with a backup).
# See docs/deploy-raspberry-pi.md.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
PREFIX=/opt/hailong
VENV=$PREFIX/venv
ETC=/etc/hailong
SECRETS=$ETC/secrets
STATE=/var/lib/hailong
ACCOUNT=hailong
GROUPS_NEEDED=(video input render dialout)
UNIT=hailong-kiosk.service
PAM_SERVICE=/etc/pam.d/hailong-kiosk
UDEV_RULE=/etc/udev/rules.d/99-hailong-scanner.rules
MIN_GLIBC=2.39 # PySide6's wheels for aarch64 (6.8 and newer) are manylinux_2_39

secrets_from=""
do_apt=1
do_boot=1
do_start=1
while [ $# -gt 0 ]; do
  case "$1" in
    --secrets) secrets_from="${2:?--secrets needs a folder}"; shift 2 ;;
    --no-apt) do_apt=0; shift ;;
    --no-boot-config) do_boot=0; shift ;;
    --no-start) do_start=0; shift ;;
    -h | --help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
done

say() { printf '==> %s\n' "$*"; }
warn() { printf 'WARNING: %s\n' "$*" >&2; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

# -- checks --------------------------------------------------------------------------------------

[ "$(id -u)" -eq 0 ] || die "run as root (sudo $0)"
if [ ! -f "$REPO/pyproject.toml" ] || [ ! -d "$REPO/kiosk" ]; then
  die "$REPO is not a Hài Lòng repository"
fi
case "$(uname -m)" in
  aarch64 | x86_64) ;;
  *) die "$(uname -m): PySide6 has no wheels for this architecture; use the 64-bit OS image" ;;
esac
glibc=$(getconf GNU_LIBC_VERSION | awk '{print $2}')
if [ "$(printf '%s\n%s\n' "$MIN_GLIBC" "$glibc" | sort -V | head -n1)" != "$MIN_GLIBC" ]; then
  die "glibc $glibc is older than $MIN_GLIBC: PySide6 will not install. Use Raspberry Pi OS based on Debian 13 (trixie)."
fi

# -- system packages -----------------------------------------------------------------------------

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"; }
known() { apt-cache policy "$1" 2>/dev/null | grep -q 'Candidate: [^(]'; }

if [ "$do_apt" -eq 1 ]; then
  # The cage kiosk compositor (Debian 12's cage will not start without Xwayland), what the
  # PySide6 wheel's Qt loads (Wayland client, EGL/GL, GBM/DRM for eglfs, fonts), and a venv.
  wanted=(python3 python3-venv fonts-dejavu-core cage xwayland libwayland-client0
    libwayland-cursor0 libwayland-egl1 libegl1 libgl1 libgles2 libgbm1 libdrm2
    libxkbcommon0 libfontconfig1 libfreetype6 libx11-6 libdbus-1-3)
  missing=()
  for pkg in "${wanted[@]}"; do installed "$pkg" || missing+=("$pkg"); done
  glib_ok=0
  if installed libglib2.0-0t64 || installed libglib2.0-0; then glib_ok=1; fi
  if [ "${#missing[@]}" -gt 0 ] || [ "$glib_ok" -eq 0 ]; then
    apt-get update -qq
    if [ "$glib_ok" -eq 0 ]; then
      # Debian 13 renamed the library with a t64 suffix.
      if known libglib2.0-0t64; then missing+=(libglib2.0-0t64); else missing+=(libglib2.0-0); fi
    fi
    say "apt-get install ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
fi
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || die "Python 3.11 or newer is needed"

# -- user and folders ----------------------------------------------------------------------------

for group in "${GROUPS_NEEDED[@]}"; do
  getent group "$group" >/dev/null || { say "groupadd $group"; groupadd --system "$group"; }
done
if ! id "$ACCOUNT" >/dev/null 2>&1; then
  say "creating system user $ACCOUNT"
  useradd --system --user-group --home-dir "$STATE" --no-create-home \
    --shell /usr/sbin/nologin --comment "Hai Long kiosk" "$ACCOUNT"
fi
usermod -a -G "$(IFS=,; echo "${GROUPS_NEEDED[*]}")" "$ACCOUNT"

install -d -m 0755 "$PREFIX" "$PREFIX/docs"
install -d -m 0700 -o "$ACCOUNT" -g "$ACCOUNT" "$STATE"
install -d -m 0750 -o root -g "$ACCOUNT" "$ETC"
install -d -m 0700 -o "$ACCOUNT" -g "$ACCOUNT" "$SECRETS" "$SECRETS/mqtt" "$SECRETS/receipt-keys-public"
# A kiosk holds public receipt keys only (Ed25519). The HMAC key earlier versions copied here
# signed receipts: a stolen kiosk could have minted them. Destroy it.
if compgen -G "$SECRETS/receipt-keys/*" >/dev/null; then
  shred -u "$SECRETS"/receipt-keys/* && rmdir "$SECRETS/receipt-keys"
  say "removed the old receipt signing key from this kiosk (it now holds public keys only)"
fi

# -- the app -------------------------------------------------------------------------------------

if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -m pip show -q pyside6 2>/dev/null; then
  # Earlier versions installed the `pyside6` bundle, whose files overlap the parts the lock has.
  say "replacing $VENV (it holds the PySide6 bundle of an earlier version)"
  rm -rf "$VENV"
fi
if [ ! -x "$VENV/bin/python" ]; then
  say "creating $VENV"
  python3 -m venv "$VENV"
fi
say "installing the app from $REPO into $VENV"
# The kiosk's packages at the versions the tests ran, checked against their hashes.
"$VENV/bin/python" -m pip install -q --disable-pip-version-check --require-hashes \
  -r "$REPO/requirements/kiosk.txt"
# The same version number may carry new code: always put this copy's code in place.
"$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps --force-reinstall "$REPO"
install -m 0644 "$REPO/docs/deploy-raspberry-pi.md" "$PREFIX/docs/deploy-raspberry-pi.md"

# -- configuration (kept once it exists) ---------------------------------------------------------

install_once() { # install_once SRC DEST MODE OWNER:GROUP
  if [ -e "$2" ]; then
    cmp -s "$1" "$2" || say "keeping $2 (the shipped version differs: compare with $1)"
  else
    install -m "$3" -o "${4%%:*}" -g "${4##*:}" "$1" "$2"
    say "installed $2"
  fi
}
install_once "$HERE/kiosk.toml" "$ETC/kiosk.toml" 0640 "root:$ACCOUNT"
install_once "$HERE/hailong-kiosk.env" "$ETC/kiosk.env" 0640 "root:$ACCOUNT"
# Earlier versions ran the kiosk with eglfs, set in kiosk.env; under cage that would fail. Move an
# old file to Wayland unless a drop-in chose to run without cage (ExecStart not naming cage).
dropins=/etc/systemd/system/$UNIT.d
if grep -q '^QT_QPA_PLATFORM=eglfs' "$ETC/kiosk.env" &&
  ! grep -qs '^ExecStart=[^[:space:]]*hailong' "$dropins"/*.conf; then
  cp -p "$ETC/kiosk.env" "$ETC/kiosk.env.eglfs.bak"
  sed -i -e 's/^QT_QPA_PLATFORM=eglfs/#&/' -e 's/^QT_QPA_EGLFS_/#&/' "$ETC/kiosk.env"
  printf 'QT_QPA_PLATFORM=wayland\nQT_WAYLAND_DISABLE_WINDOWDECORATION=1\n' >>"$ETC/kiosk.env"
  say "moved $ETC/kiosk.env from eglfs to Wayland under cage (backup: $ETC/kiosk.env.eglfs.bak)"
fi

if [ ! -e "$ETC/eglfs-kms.json" ]; then
  # For the eglfs alternative (without cage): the DRM card that has a connected display (a Pi 4/5
  # also has a render-only card).
  card=""
  for status in /sys/class/drm/card*-*/status; do
    if [ ! -r "$status" ] || [ "$(cat "$status")" != connected ]; then continue; fi
    card=$(basename "$(dirname "$status")")
    card=${card%%-*}
    break
  done
  if [ -n "$card" ]; then
    printf '{\n  "device": "/dev/dri/%s",\n  "hwcursor": false\n}\n' "$card" >"$ETC/eglfs-kms.json"
    chmod 0644 "$ETC/eglfs-kms.json"
    say "display on /dev/dri/$card (written to $ETC/eglfs-kms.json)"
  else
    warn "no connected display found; Qt will choose a DRM card itself (write $ETC/eglfs-kms.json later)"
  fi
fi

kiosk_id=$(sed -n 's/^[[:space:]]*id[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' "$ETC/kiosk.toml" | head -n1)
[ -n "$kiosk_id" ] || die "no [kiosk] id in $ETC/kiosk.toml"

# -- secrets (never overwritten) -----------------------------------------------------------------

refused=0
copy_secret() { # copy_secret SRC DEST
  if [ -e "$2" ]; then
    if cmp -s "$1" "$2"; then
      say "secret $2 already in place"
    else
      warn "refusing to overwrite the existing secret $2 (remove it first to replace it)"
      refused=1
    fi
    return
  fi
  install -m 0600 -o "$ACCOUNT" -g "$ACCOUNT" "$1" "$2"
  say "installed secret $2"
}
if [ -n "$secrets_from" ]; then
  [ -d "$secrets_from" ] || die "--secrets $secrets_from is not a folder"
  for name in "mqtt/$kiosk_id.password" "$kiosk_id.pin"; do
    if [ -f "$secrets_from/$name" ]; then
      copy_secret "$secrets_from/$name" "$SECRETS/$name"
    else
      warn "$secrets_from/$name not found"
    fi
  done
  # Public keys and keys.toml: replaced on every run, so a rotation reaches the kiosk.
  for key in "$secrets_from"/receipt-keys-public/*.pub "$secrets_from"/receipt-keys-public/keys.toml; do
    if [ -f "$key" ]; then
      install -m 0600 -o "$ACCOUNT" -g "$ACCOUNT" "$key" "$SECRETS/receipt-keys-public/$(basename "$key")"
      say "installed receipt key file $(basename "$key")"
    fi
  done
fi
# Whatever is there: owner hailong, readable by it alone.
find "$SECRETS" -type d -exec chmod 0700 {} + -exec chown "$ACCOUNT:$ACCOUNT" {} +
find "$SECRETS" -type f -exec chmod 0600 {} + -exec chown "$ACCOUNT:$ACCOUNT" {} +

missing_secrets=()
for name in "mqtt/$kiosk_id.password" "$kiosk_id.pin"; do
  [ -s "$SECRETS/$name" ] || missing_secrets+=("$SECRETS/$name")
done
[ -s "$SECRETS/receipt-keys-public/keys.toml" ] || missing_secrets+=("$SECRETS/receipt-keys-public/keys.toml")
compgen -G "$SECRETS/receipt-keys-public/*.pub" >/dev/null || missing_secrets+=("$SECRETS/receipt-keys-public/<id>.pub")

# -- devices and the screen ----------------------------------------------------------------------

install -d -m 0755 "$(dirname "$UDEV_RULE")" /etc/modules-load.d
install_once "$HERE/99-hailong-scanner.rules" "$UDEV_RULE" 0644 root:root
udevadm control --reload || true
# The unit's DeviceAllow=char-ttyACM/char-ttyUSB only match drivers loaded when the kiosk starts.
if [ ! -e /etc/modules-load.d/hailong-scanner.conf ]; then
  printf '# Serial scanner drivers, loaded before hailong-kiosk.service starts\ncdc_acm\nusbserial\n' \
    >/etc/modules-load.d/hailong-scanner.conf
  say "installed /etc/modules-load.d/hailong-scanner.conf"
fi

if [ "$do_boot" -eq 1 ]; then
  # No console blanking (the console's screen-saver would blank the kiosk's display).
  for cmdline in /boot/firmware/cmdline.txt /boot/cmdline.txt; do
    [ -f "$cmdline" ] || continue
    if ! grep -qw 'consoleblank=0' "$cmdline"; then
      cp -p "$cmdline" "$cmdline.hailong.bak"
      sed -i '1 s/[[:space:]]*$/ consoleblank=0/' "$cmdline"
      say "added consoleblank=0 to $cmdline (takes effect after a reboot; backup in $cmdline.hailong.bak)"
    fi
    break
  done
fi

# -- systemd -------------------------------------------------------------------------------------

install -m 0644 "$HERE/$UNIT" "/etc/systemd/system/$UNIT"
# The unit's login session on tty1 (PAMName=hailong-kiosk): the autologin, without a desktop.
install -m 0644 "$HERE/hailong-kiosk.pam" "$PAM_SERVICE"
systemctl daemon-reload
# The kiosk owns tty1's screen; a login prompt there would receive a scanner's keystrokes.
systemctl disable --quiet getty@tty1.service 2>/dev/null || true
systemctl enable --quiet "$UNIT"
say "enabled $UNIT"

if [ "${#missing_secrets[@]}" -gt 0 ]; then
  warn "not starting the kiosk: missing secrets (create them on the hub with \`hailong init\`):"
  printf '  %s\n' "${missing_secrets[@]}" >&2
  warn "copy them over SSH, then: sudo $0 --secrets DIR   (see docs/deploy-raspberry-pi.md)"
elif [ "$do_start" -eq 1 ]; then
  systemctl restart "$UNIT"
  say "started $UNIT; follow it with: journalctl -u ${UNIT%.service} -f"
fi
say "done: config $ETC/kiosk.toml, environment $ETC/kiosk.env, outbox in $STATE"
if [ "$refused" -eq 1 ]; then
  die "some secrets were not replaced (see the warnings above); the existing ones are in use"
fi
