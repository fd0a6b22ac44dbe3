#!/usr/bin/env bash
# make demo: the main job end to end. Makes a 12 s H.264 + AAC clip with ffmpeg, creates a signing key pair, injects
# the cues of samples/show.yaml and a heartbeat per second with sei-inject, checks with FFmpeg that the pictures did not
# change, then inspects the result and prints the verified cues.
# Uses the Native AOT binary from `make publish` when it exists, else the JIT build from `make build`.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -x artifacts/bin/sei-inject ]; then
  SEI_INJECT=(artifacts/bin/sei-inject)
else
  SEI_INJECT=(dotnet src/SeiInjector/bin/Release/net10.0/sei-inject.dll)
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/catevening-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
say() { printf '\n== %s\n' "$*"; }

say "1. a 12 s 640x360 H.264 + AAC FLV clip, made with ffmpeg"
ffmpeg -hide_banner -nostdin -v error -y \
  -f lavfi -i "testsrc2=size=640x360:rate=25:duration=12" -f lavfi -i "sine=frequency=440:duration=12" \
  -c:v libx264 -preset veryfast -bf 2 -g 25 -pix_fmt yuv420p -c:a aac -b:a 64k -f flv "$work/show.flv"
ls -l "$work/show.flv"

say "2. sei-inject keygen (the private key is written with mode 0600)"
"${SEI_INJECT[@]}" keygen --private "$work/show.key" --public "$work/show.pub"
ls -l "$work/show.key" "$work/show.pub"

say "3. sei-inject run with samples/show.yaml"
cat samples/show.yaml
"${SEI_INJECT[@]}" run -i "$work/show.flv" -o "$work/show-signed.flv" --key "$work/show.key" --schedule samples/show.yaml

say "4. FFmpeg's verdict: decoded pictures before and after (framemd5)"
before=$(ffmpeg -hide_banner -nostdin -v error -i "$work/show.flv" -map 0:v -f framemd5 - | grep -v '^#' | md5sum | cut -c1-32)
after=$(ffmpeg -hide_banner -nostdin -v error -i "$work/show-signed.flv" -map 0:v -f framemd5 - | grep -v '^#' | md5sum | cut -c1-32)
echo "before $before"
echo "after  $after"
[ "$before" = "$after" ] && echo "identical: not one pixel changed" || { echo "DIFFERENT"; exit 1; }
carriers=$(ffprobe -v error -select_streams v -show_frames -show_entries frame=pts_time:frame_side_data=side_data_type "$work/show-signed.flv" \
  | grep -c 'User Data Unregistered' || true)
echo "ffprobe sees $carriers user_data_unregistered SEI messages (ours, plus x264's own on the first frame)"

say "5. sei-inject inspect --public-key: every message, verified"
"${SEI_INJECT[@]}" inspect "$work/show-signed.flv" --public-key "$work/show.pub" > "$work/inspect.txt"
grep -c verified "$work/inspect.txt" | xargs printf '%s message occurrences (cues, carousel repeats, heartbeats)\n'

say "6. the verified cues (first occurrences): where they ride and when they fire"
grep -v heartbeat "$work/inspect.txt" | grep -v '(repeat)' | grep ' verified'

say "7. a copy with one bit flipped in a signed message is refused"
cp "$work/show-signed.flv" "$work/tampered.flv"
# The first CatEvening payload (its UUID), then a byte of its signed body that is not 00-03, so the SEI syntax
# (emulation prevention) stays intact and only the signature breaks.
at=$(LC_ALL=C grep -obUaP '\x7f\x4d\xd1\x1c\xdf\xb8\x4e\x31\x82\xfd' "$work/tampered.flv" | head -1 | cut -d: -f1)
at=$((at + 19 + 40))
while [ "$(od -An -tu1 -j "$at" -N1 "$work/tampered.flv" | tr -d ' ')" -le 3 ]; do at=$((at + 1)); done
byte=$(od -An -tu1 -j "$at" -N1 "$work/tampered.flv" | tr -d ' ')
printf "$(printf '\\x%02x' $((byte ^ 1)))" | dd of="$work/tampered.flv" bs=1 seek="$at" conv=notrunc status=none
set +e
"${SEI_INJECT[@]}" inspect "$work/tampered.flv" --public-key "$work/show.pub" > "$work/tampered.txt" 2>/dev/null
status=$?
set -e
grep 'NOT verified' "$work/tampered.txt"
echo "inspect exit code on the tampered copy: $status (5 = not verified)"
[ $status -eq 5 ]
echo
echo "demo done"
