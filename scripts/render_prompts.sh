#!/usr/bin/env bash
# Renders the kiosk's spoken prompts with espeak-ng (a developer tool; CI only checks the files it
# wrote). The texts live in kiosk/prompts/__init__.py, nowhere else.
#
#   scripts/render_prompts.sh                          every shipped prompt -> kiosk/prompts/
#   scripts/render_prompts.sh --reasons FILE --out DIR a unit's reasons -> DIR/reason-<code>-<lang>.wav
#
# FILE holds one reason a line, `code<TAB>Vietnamese name<TAB>English name` (the unit's reasons as
# its configuration names them); DIR is the kiosk's prompts folder (kiosk.prompts_dir,
# docs/voice.md). A recorded human voice is better still: these are the fallback.
#
# Needs .venv (scripts/setup.sh); installs espeak-ng and sox with apt when they are missing.
# Output: 16 kHz mono 16-bit PCM, trimmed, normalised, with a short fade; the same text gives the
# same bytes (no dither), so an unchanged prompt shows no diff.
#
# Made for older listeners: slower than espeak-ng's 175 words a minute, a slightly lower pitch
# (hearing loss with age takes the high frequencies first), a gap between words, the pauses
# between sentences kept (up to 0.45 s), and 0.35 s of silence after each line, so that lines
# played one after another (a face, then the next) stay apart.
set -euo pipefail
cd "$(dirname "$0")/.."

out_dir=kiosk/prompts
reasons=""
while [ "$#" -gt 0 ]; do
  case "$1" in
    --reasons) reasons="$2"; shift 2 ;;
    --out) out_dir="$2"; shift 2 ;;
    *) echo "usage: $0 [--reasons FILE --out DIR]" >&2; exit 2 ;;
  esac
done
if [ -n "$reasons" ] && [ "$out_dir" = kiosk/prompts ]; then
  echo "--reasons needs --out DIR (the kiosk's prompts folder): reasons are never shipped" >&2
  exit 2
fi

speed=140  # words per minute
pitch=40   # 0-99, espeak-ng's default is 50
word_gap=2 # extra pause between words, in 10 ms units
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

lines() {
  if [ -z "$reasons" ]; then
    "$python" -m kiosk.prompts listing
    return
  fi
  # A unit's reasons: code<TAB>vi<TAB>en -> reason-<code><TAB>lang<TAB>text
  awk -F '\t' 'NF >= 3 && $1 ~ /^[A-Za-z0-9._-]+$/ {
      print "reason-" $1 "\tvi\t" $2 "."; print "reason-" $1 "\ten\t" $3 "."
    }
    NF > 0 && !(NF >= 3 && $1 ~ /^[A-Za-z0-9._-]+$/) {
      print "skipped line " NR ": want code<TAB>vi<TAB>en" > "/dev/stderr"
    }' "$reasons" | sed -E 's/([.?!])\.$/\1/'
}

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Read the listing on fd 3 so that nothing in the loop can swallow it from stdin.
count=0
while IFS=$'\t' read -r key lang text <&3; do
  [ -n "$key" ] || continue
  name="$key-$lang.wav"
  espeak-ng -b 1 -v "$(voice_for "$lang")" -s "$speed" -p "$pitch" -g "$word_gap" \
    -w "$work/raw-$name" -- "$text" </dev/null
  # Trim the silence at the start and shorten long pauses inside to 0.45 s, trim the end, fade
  # 80 ms out (a fade-in while reversed) and 20 ms in, leave headroom so resampling cannot clip,
  # resample, normalise to -1 dBFS, then pad: a little silence first, so that an audio device
  # waking up does not swallow the first syllable, and a pause after.
  sox -D "$work/raw-$name" -r 16000 -c 1 -b 16 -e signed-integer "$work/$name" \
    silence -l 1 0.02 0.5% -1 0.45 0.5% reverse silence 1 0.02 0.5% fade t 0.08 reverse \
    fade t 0.02 gain -3 rate -v 16k norm -1 pad 0.05 0.35 </dev/null
  count=$((count + 1))
done 3< <(lines)
[ "$count" -gt 0 ] || { echo "no prompts listed" >&2; exit 1; }

# Check every file before replacing the committed ones.
status=0
total=0
printf '%-28s %8s %8s %8s\n' file seconds bytes rms
for wav in "$work"/*.wav; do
  case "$(basename "$wav")" in raw-*) continue ;; esac
  seconds="$(soxi -D "$wav")"
  bytes="$(stat -c %s "$wav")"
  rms="$(sox "$wav" -n stat 2>&1 | awk '/^RMS +amplitude/ {print $3}')"
  total=$((total + bytes))
  printf '%-28s %8.2f %8d %8.4f\n' "$(basename "$wav")" "$seconds" "$bytes" "$rms"
  awk -v s="$seconds" -v r="$rms" 'BEGIN { exit !(s >= 0.8 && s <= 12 && r > 0.01) }' || {
    echo "  ^ out of range: want 0.8-12 s and RMS amplitude > 0.01" >&2
    status=1
  }
done
echo "total: $count files, $total bytes"
[ "$status" -eq 0 ] || exit 1

mkdir -p "$out_dir"
# The shipped set is replaced whole (a removed prompt leaves no stale file); a unit's folder only
# gains or replaces its reason files.
[ -n "$reasons" ] || rm -f "$out_dir"/*.wav
for wav in "$work"/*.wav; do
  case "$(basename "$wav")" in raw-*) continue ;; esac
  mv "$wav" "$out_dir/"
done
echo "==> wrote $count prompts to $out_dir/"
