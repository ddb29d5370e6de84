#!/usr/bin/env bash
# Renders the kiosk's spoken prompts to kiosk/prompts/<key>-<lang>.wav (a developer tool; CI
# only checks the files it wrote). The texts live in kiosk/prompts/__init__.py, nowhere else.
#   scripts/render_prompts.sh
# Needs .venv (scripts/setup.sh); installs espeak-ng and sox with apt when they are missing.
# Output: 16 kHz mono 16-bit PCM, trimmed, normalised, with a short fade; the same text gives the
# same bytes (no dither), so an unchanged prompt shows no diff.
set -euo pipefail
cd "$(dirname "$0")/.."

out_dir=kiosk/prompts
speed=155 # words per minute: slower than espeak-ng's 175 for clarity, yet keeps all files under 2 MB
python=.venv/bin/python
[ -x "$python" ] || { echo "no $python: run scripts/setup.sh first" >&2; exit 1; }

missing=()
command -v espeak-ng >/dev/null || missing+=(espeak-ng)
command -v sox >/dev/null || missing+=(sox)
if [ "${#missing[@]}" -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "==> apt-get install ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

voice_for() {
  case "$1" in
    vi) echo vi ;;
    en) echo en-gb ;;
    *) echo "no espeak-ng voice for language '$1'" >&2; return 1 ;;
  esac
}

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Read the listing on fd 3 so that nothing in the loop can swallow it from stdin.
count=0
while IFS=$'\t' read -r key lang text <&3; do
  [ -n "$key" ] || continue
  name="$key-$lang.wav"
  espeak-ng -b 1 -v "$(voice_for "$lang")" -s "$speed" -w "$work/raw-$name" -- "$text" </dev/null
  # Trim the silence at the start and shorten pauses inside to 0.2 s, trim the end, fade 80 ms
  # out (a fade-in while reversed) and 20 ms in, leave headroom so resampling cannot clip,
  # resample, normalise to -1 dBFS, then pad a little silence so that an audio device waking up
  # does not swallow the first syllable.
  sox -D "$work/raw-$name" -r 16000 -c 1 -b 16 -e signed-integer "$work/$name" \
    silence -l 1 0.02 0.5% -1 0.2 0.5% reverse silence 1 0.02 0.5% fade t 0.08 reverse \
    fade t 0.02 gain -3 rate -v 16k norm -1 pad 0.05 0.05 </dev/null
  count=$((count + 1))
done 3< <("$python" -c 'import sys, kiosk.prompts as p; sys.stdout.write(p.listing())')
[ "$count" -gt 0 ] || { echo "no prompts listed" >&2; exit 1; }

# Check every file before replacing the committed ones.
status=0
total=0
printf '%-22s %8s %8s %8s\n' file seconds bytes rms
for wav in "$work"/*.wav; do
  case "$(basename "$wav")" in raw-*) continue ;; esac
  seconds="$(soxi -D "$wav")"
  bytes="$(stat -c %s "$wav")"
  rms="$(sox "$wav" -n stat 2>&1 | awk '/^RMS +amplitude/ {print $3}')"
  total=$((total + bytes))
  printf '%-22s %8.2f %8d %8.4f\n' "$(basename "$wav")" "$seconds" "$bytes" "$rms"
  awk -v s="$seconds" -v r="$rms" 'BEGIN { exit !(s >= 0.8 && s <= 10 && r > 0.01) }' || {
    echo "  ^ out of range: want 0.8-10 s and RMS amplitude > 0.01" >&2
    status=1
  }
done
echo "total: $count files, $total bytes"
[ "$status" -eq 0 ] || exit 1

rm -f "$out_dir"/*.wav
for wav in "$work"/*.wav; do
  case "$(basename "$wav")" in raw-*) continue ;; esac
  mv "$wav" "$out_dir/"
done
echo "==> wrote $count prompts to $out_dir/"
