#!/usr/bin/env bash
# The Mono job of `make test` (issue 16): compiles tests/MonoChecker with Mono's mcs against SeiReader's
# netstandard2.0 build (the one Mono and Unity load), makes a real H.264 and a real H.265 stream with the ffmpeg CLI
# and sei-inject, and runs the checker on Mono. The checks land in TestResults/mono/mono-checker.trx, which
# scripts/test-totals.sh adds to the CI totals; any failed check (or a checker that does not run) exits non-zero.
# Needs: `make build` done (SeiReader netstandard2.0 and sei-inject), mono-devel, ffmpeg with libx264 and libx265.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
config=${CONFIG:-Release}
results=${1:-TestResults}/mono
lib=src/SeiReader/bin/$config/netstandard2.0
inject=src/SeiInjector/bin/$config/net10.0/sei-inject
say() { printf '[mono-checker] %s\n' "$*"; }

for tool in mono mcs ffmpeg ffprobe; do
  command -v $tool >/dev/null 2>&1 || { say "$tool is missing: run scripts/install-deps.sh"; exit 1; }
done
[ -f "$lib/CatEvening.SeiReader.dll" ] || { say "$lib/CatEvening.SeiReader.dll is missing: run make build"; exit 1; }
[ -x "$inject" ] || { say "$inject is missing: run make build"; exit 1; }
# The netstandard2.0 build copies its dependencies next to itself (CopyLocalLockFileAssemblies); a build of a net10.0
# project alone does not rebuild it, so it must not be older than the sources.
for dep in System.Memory MessagePack BouncyCastle.Cryptography; do
  [ -f "$lib/$dep.dll" ] || { say "$lib/$dep.dll is missing: run make build"; exit 1; }
done
if [ -n "$(find src/SeiReader -name '*.cs' -newer "$lib/CatEvening.SeiReader.dll" -not -path '*/obj/*' -not -path '*/bin/*' | head -n1)" ]; then
  say "$lib/CatEvening.SeiReader.dll is older than src/SeiReader: run make build"; exit 1
fi

work=$(mktemp -d /tmp/catevening-mono-checker.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin" "$results"
rm -f "$results/mono-checker.trx"

# The checker sees only the package's netstandard2.0 DLL and its dependencies, as a Unity project's Plugins folder does.
cp "$lib"/*.dll "$work/bin/"
mcs -nologo -nowarn:1685 -target:exe -out:"$work/bin/MonoChecker.exe" \
  -r:"$work/bin/CatEvening.SeiReader.dll" -r:"$work/bin/System.Memory.dll" \
  -r:/usr/lib/mono/4.5/Facades/netstandard.dll -r:System.Numerics.dll -r:System.Xml.dll \
  tests/MonoChecker/MonoChecker.cs

cat > "$work/show.yaml" <<'YAML'
stream: mono-check
cues:
  - id: welcome
    kind: custom
    at: 200ms
    data: { banner: "hello Mono" }
  - id: poll-1
    kind: interaction-start
    at: 600ms
    duration: 1s
    spread: 2s
    data: { question: "Best cat?" }
  - id: poll-1-end
    kind: interaction-end
    closes: poll-1
    at: 1.6s
  - id: quiz-9
    kind: cancel
    at: 2s
YAML
"$inject" keygen --private "$work/key.pem" --public "$work/key.pub.pem" --key-id 3 >/dev/null

stream_args=()
# sei-inject writes format version 2 (one payload per access unit); h264-v1 is the same show written with
# --format-version 1, which readers still accept.
for name in h264 h265 h264-v1; do
  codec=${name%-v1}
  format=(); [ "$name" = h264-v1 ] && format=(--format-version 1)
  case $codec in
    h264) enc=(-c:v libx264 -preset veryfast -bf 2 -g 30 -x264-params log-level=error) ;;
    h265) enc=(-c:v libx265 -preset veryfast -bf 2 -g 30 -x265-params log-level=error) ;;
  esac
  ffmpeg -nostdin -v error -f lavfi -i testsrc2=size=320x240:rate=30 -t 3 -pix_fmt yuv420p "${enc[@]}" -f mpegts -y "$work/$name.ts"
  "$inject" run -i "$work/$name.ts" -o "$work/$name.mp4" --key "$work/key.pem" --schedule "$work/show.yaml" \
    --heartbeat 500ms --repeat 2 "${format[@]}" >"$work/$name.inject.log" 2>&1 || { cat "$work/$name.inject.log"; exit 1; }
  "$inject" inspect "$work/$name.mp4" --public-key "$work/key.pub.pem" --json >"$work/$name.inspect.jsonl"
  ffprobe -v error -select_streams v:0 -show_entries packet=pts,dts,size,pos -of csv=p=0 "$work/$name.mp4" >"$work/$name.packets.csv"
  timebase=$(ffprobe -v error -select_streams v:0 -show_entries stream=time_base -of csv=p=0 "$work/$name.mp4")
  stream_args+=(--stream "$name" "$codec" "$work/$name.mp4" "$work/$name.packets.csv" "$timebase" "$work/$name.inspect.jsonl" "$work/key.pub.pem")
done

say "running on $(mono --version | head -n1)"
mono "$work/bin/MonoChecker.exe" --repo "$root" --trx "$results/mono-checker.trx" "${stream_args[@]}"
