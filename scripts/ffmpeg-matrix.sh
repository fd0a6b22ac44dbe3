#!/usr/bin/env bash
# make ffmpeg-matrix: the Native AOT sei-inject, built once, against every FFmpeg release Debian's archive serves.
#
#   host    the machine's own FFmpeg (5.1 on Debian 12)
#   trixie  a minimal Debian 13 chroot: FFmpeg 7.1
#   sid     a minimal Debian sid chroot: FFmpeg 9.x, and its 8.x libraries loaded through CATEVENING_FFMPEG_DIR
#
# The chroots are made with `debootstrap --variant=minbase SUITE DIR MIRROR` from the apt mirror this machine is
# configured with, and cached in ${CATEVENING_MATRIX_DIR:-/var/cache/catevening-matrix} (reused when present; delete
# the folder to start afresh). Needs root (debootstrap, chroot, mounts), python3 on the host, network to the mirror.
#
# Every case runs `sei-inject run --heartbeat frame --schedule` (two cues) and is judged by FFmpeg of the same
# environment: decoded pictures identical (`-map 0:v:0 -fps_mode passthrough -f framemd5`), user-data side data on
# every decoded frame (`ffprobe -show_frames -of json`), every message verified with a heartbeat on every frame and
# both cues present (`sei-inject inspect --json`). A table per environment; exit status 1 when a row fails.
#
#   scripts/ffmpeg-matrix.sh [host] [trixie] [sid]      (default: all three)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

MATRIX_DIR=${CATEVENING_MATRIX_DIR:-/var/cache/catevening-matrix}
ENVS=("$@")
[ ${#ENVS[@]} -gt 0 ] || ENVS=(host trixie sid)
APT_OPTS=(-o Acquire::Check-Valid-Until=false -o APT::Install-Recommends=false)
say() { printf '[matrix] %s\n' "$*" >&2; }

[ "$(id -u)" -eq 0 ] || { say "needs root (debootstrap, chroot and bind mounts)"; exit 1; }
for tool in debootstrap python3 dotnet; do
  command -v "$tool" >/dev/null 2>&1 || { say "$tool is missing${tool/debootstrap/: apt-get install debootstrap}"; exit 1; }
done

# --- the binary, built once --------------------------------------------------------------------------------------
# CATEVENING_MATRIX_BINARY names a sei-inject already published (e.g. by `make publish`) to skip this step.
BINARY=${CATEVENING_MATRIX_BINARY:-}
if [ -z "$BINARY" ]; then
  say "dotnet publish (Native AOT sei-inject) into artifacts/bin"
  dotnet publish src/SeiInjector/SeiInjector.csproj -c Release --use-current-runtime -o artifacts/bin -nologo -v quiet >&2
  BINARY=$repo/artifacts/bin/sei-inject
fi

# --- chroots ----------------------------------------------------------------------------------------------------
# The first Debian archive URL among the machine's apt sources (one-line .list or deb822 .sources).
apt_mirror() {
  { cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null || true; } \
    | grep -E '^[[:space:]]*(URIs:|deb[[:space:]])' \
    | sed -E 's/^[[:space:]]*URIs:[[:space:]]*//; s/^[[:space:]]*deb[[:space:]]+(\[[^]]*\][[:space:]]+)?//; s/[[:space:]].*$//' \
    | grep -m1 -E '/debian/?$' || true
}

MOUNTED=()
cleanup() {
  local i
  for ((i = ${#MOUNTED[@]} - 1; i >= 0; i--)); do umount -l "${MOUNTED[$i]}" 2>/dev/null || true; done
}
trap cleanup EXIT

# /proc and /dev inside a chroot for the duration of this run (unmounted on exit).
mount_chroot() {
  local root=$1
  mountpoint -q "$root/proc" || { mount -t proc proc "$root/proc"; MOUNTED+=("$root/proc"); }
  mountpoint -q "$root/dev" || { mount --bind /dev "$root/dev"; MOUNTED+=("$root/dev"); }
}

# Creates (or reuses) the chroot of a Debian suite with ffmpeg and the extra packages installed.
ensure_chroot() {
  local suite=$1; shift
  local root=$MATRIX_DIR/$suite
  if [ -x "$root/usr/bin/apt-get" ]; then
    say "$suite: reusing $root"
  else
    local mirror; mirror=$(apt_mirror)
    [ -n "$mirror" ] || { say "no Debian mirror in /etc/apt/sources.list*: cannot make the $suite chroot"; exit 1; }
    # Never rm -rf a root here: a chroot of an interrupted run may still have /dev bound into it.
    [ ! -e "$root" ] || { say "$root exists but holds no bootstrapped system: unmount and remove it by hand"; exit 1; }
    mkdir -p "$MATRIX_DIR"
    [ ! -e "$root.tmp" ] || { say "$root.tmp is left from an interrupted run: unmount and remove it by hand"; exit 1; }
    say "$suite: debootstrap --variant=minbase $suite $root $mirror (a few minutes)"
    # The host's keyring holds the trixie signing keys that sign sid too; --no-check-gpg only when it does not verify.
    if ! debootstrap --variant=minbase --keyring=/usr/share/keyrings/debian-archive-keyring.gpg "$suite" "$root.tmp" "$mirror" >&2; then
      say "$suite: the Release signature did not verify with this machine's keyring: retrying with --no-check-gpg"
      mountpoint -q "$root.tmp/proc" && umount -l "$root.tmp/proc"
      rm -rf "$root.tmp"
      debootstrap --variant=minbase --no-check-gpg "$suite" "$root.tmp" "$mirror" >&2
    fi
    mv "$root.tmp" "$root"
  fi
  if [ ! -e "$root/.catevening-ready" ] || ! chroot "$root" dpkg -s ffmpeg "$@" >/dev/null 2>&1; then
    say "$suite: apt-get install ffmpeg $*"
    chroot "$root" apt-get "${APT_OPTS[@]}" update -qq >&2
    DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get "${APT_OPTS[@]}" install -y -qq ffmpeg "$@" >&2
    touch "$root/.catevening-ready"
  fi
  mount_chroot "$root"
}

# The newest libavformat major below the one that ffmpeg itself links (sid keeps the previous release's libraries).
previous_major_packages() {
  local root=$1 current
  current=$(chroot "$root" ffprobe -version | sed -nE 's/^libavformat +([0-9]+)\..*/\1/p')
  chroot "$root" apt-cache search --names-only '^libavformat[0-9]+$' | sed -nE 's/^libavformat([0-9]+) .*/\1/p' \
    | sort -n | awk -v c="$current" '$1 < c' | tail -1
}

# --- the oracle suite ---------------------------------------------------------------------------------------------
RESULTS=$(mktemp "${TMPDIR:-/tmp}/catevening-matrix-results.XXXXXX")

# run_suite LABEL ROOT [VAR=value...]: ROOT is / for the host; the variables are set for sei-inject only.
run_suite() {
  local label=$1 root=$2; shift 2
  local env_vars=("$@")
  local inside=/tmp/catevening-matrix.$$
  local work=$root$inside
  [ "$root" = / ] && work=$inside
  rm -rf "$work"; mkdir -p "$work"
  cp "$BINARY" "$work/sei-inject"
  in_env() { if [ "$root" = / ]; then (cd "$work" && "$@"); else chroot "$root" /bin/sh -c 'cd "$0" && exec "$@"' "$inside" "$@"; fi; }
  inject() { in_env env "${env_vars[@]}" ./sei-inject "$@"; }

  local ffmpeg_version libs
  ffmpeg_version=$(in_env ffmpeg -version | sed -nE '1s/^ffmpeg version ([^ ]+).*/\1/p')
  say "$label: FFmpeg CLI $ffmpeg_version"

  cat > "$work/two-cues.yaml" <<'EOF'
stream: matrix
cues:
  - id: cue-one
    kind: custom
    at: 500ms
    data: { n: 1 }
  - id: cue-two
    kind: interaction-start
    at: 1500ms
    duration: 1s
    data: { n: 2 }
EOF
  local rows=()
  row() { rows+=("$(printf '| %-26s | %-9s | %-11s | %-15s | %-5s | %s |' "$@")"); }

  if inject keygen --private show.key --public show.pub >/dev/null 2>"$work/keygen.err" \
     && [ "$(stat -c %a "$work/show.key")" = 600 ]; then
    row keygen - - - PASS "private key mode 0600"
  else
    row keygen - - - FAIL "$(tail -1 "$work/keygen.err")"
  fi
  libs=""

  # case NAME FILE "ffmpeg encode args" [pipe FORMAT]
  one_case() {
    local name=$1 file=$2 encode=$3 pipe=${4:-} format=${5:-}
    local err=$work/$file.err
    # shellcheck disable=SC2086
    if ! in_env ffmpeg -nostdin -hide_banner -v error -y -f lavfi -i "testsrc2=size=320x180:rate=25:duration=3" \
         -f lavfi -i "sine=frequency=440:duration=3" $encode "$file" 2>"$err"; then
      row "$name" - - - SKIP "FFmpeg $ffmpeg_version cannot write it: $(grep -v '^$' "$err" | head -1 | sed -E 's/^\[[^]]*\] //')"
      return
    fi
    local out=signed-$file
    if [ "$pipe" = pipe ]; then
      in_env /bin/sh -c "exec env ${env_vars[*]} ./sei-inject run -i pipe:0 --input-format $format -o pipe:1 --output-format $format --key show.key --heartbeat frame --schedule two-cues.yaml < $file > $out" \
        2>"$err.run" </dev/null || true
    else
      inject run -i "$file" -o "$out" --key show.key --heartbeat frame --schedule two-cues.yaml 2>"$err.run" </dev/null || true
    fi
    [ -n "$libs" ] || libs=$(sed -nE 's/^sei-inject: (live|started): .*; (FFmpeg .*)$/\2/p' "$err.run" | head -1)
    if [ ! -s "$work/$out" ]; then
      row "$name" - - - FAIL "sei-inject: $(tail -1 "$err.run")"
      return
    fi
    local md5_in md5_out frames inspect verdict
    md5_in=$(in_env ffmpeg -nostdin -v error -i "$file" -map 0:v:0 -fps_mode passthrough -f framemd5 - | grep -v '^#' | md5sum | cut -c1-12)
    md5_out=$(in_env ffmpeg -nostdin -v error -i "$out" -map 0:v:0 -fps_mode passthrough -f framemd5 - | grep -v '^#' | md5sum | cut -c1-12)
    in_env ffprobe -v error -select_streams v:0 -show_frames -show_entries frame=frame_side_data -of json "$out" > "$work/$out.frames.json"
    inject inspect "$out" --public-key show.pub --json > "$work/$out.inspect.jsonl" 2>/dev/null || true
    verdict=$(python3 - "$work/$out.frames.json" "$work/$out.inspect.jsonl" "$md5_in" "$md5_out" <<'PY'
import json, sys
frames = json.load(open(sys.argv[1])).get("frames", [])
kind = "H.26[45] User Data Unregistered SEI message"
with_sd = sum(1 for f in frames if any(s.get("side_data_type") == kind for s in f.get("side_data_list", [])))
msgs = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
verified = sum(1 for m in msgs if m.get("verified"))
beats = len({m["frame"] for m in msgs if m.get("kind") == "heartbeat" and m.get("verified")})
cues = sorted({m["id"] for m in msgs if m.get("id") and m.get("verified")})
md5_ok = sys.argv[3] == sys.argv[4]
ok = md5_ok and frames and with_sd == len(frames) and msgs and verified == len(msgs) and beats == len(frames) and cues == ["cue-one", "cue-two"]
print("\t".join([
    "identical" if md5_ok else "DIFFERENT",
    f"{with_sd}/{len(frames)}",
    f"{verified}/{len(msgs)}",
    f"{beats} beats, {len(cues)} cues",
    "PASS" if ok else "FAIL",
]))
PY
)
    IFS=$'\t' read -r a b c d e <<<"$verdict"
    row "$name" "${a:0:9}" "$b" "$c" "$e" "$d"
  }

  one_case "x264 FLV + AAC" x264.flv "-c:v libx264 -preset veryfast -bf 2 -g 25 -pix_fmt yuv420p -c:a aac -b:a 64k"
  one_case "x264 TS, B-frames (bf 3)" x264-bf3.ts "-c:v libx264 -preset veryfast -bf 3 -b_strategy 0 -g 50 -pix_fmt yuv420p -c:a aac -b:a 64k"
  one_case "x265 MP4 + AAC" x265.mp4 "-c:v libx265 -preset ultrafast -x265-params log-level=error:bframes=3 -pix_fmt yuv420p -c:a aac -b:a 64k"
  one_case "x265 TS + AAC" x265.ts "-c:v libx265 -preset ultrafast -x265-params log-level=error:bframes=3 -pix_fmt yuv420p -c:a aac -b:a 64k"
  one_case "HEVC in FLV (enhanced)" x265.flv "-c:v libx265 -preset ultrafast -x265-params log-level=error:bframes=3 -pix_fmt yuv420p -c:a aac -b:a 64k"
  one_case "pipe in/out (FLV)" pipe.flv "-c:v libx264 -preset veryfast -bf 2 -g 25 -pix_fmt yuv420p -c:a aac -b:a 64k" pipe flv
  one_case "pipe in/out (TS, x265)" pipe.ts "-c:v libx265 -preset ultrafast -x265-params log-level=error -pix_fmt yuv420p -c:a aac -b:a 64k" pipe mpegts

  {
    printf '\n### %s: FFmpeg CLI %s; sei-inject loaded %s\n\n' "$label" "$ffmpeg_version" "${libs:-?}"
    printf '| %-26s | %-9s | %-11s | %-15s | %-5s | %s |\n' case framemd5 "side data" "verified msgs" result notes
    printf '|%s|%s|%s|%s|%s|%s|\n' ---------------------------- ----------- ------------- ----------------- ------- -------
    printf '%s\n' "${rows[@]}"
  } | tee -a "$RESULTS"
  rm -rf "$work"
}

for env_name in "${ENVS[@]}"; do
  case $env_name in
    host) run_suite "host ($(. /etc/os-release && echo "$PRETTY_NAME"))" / ;;
    trixie)
      ensure_chroot trixie
      run_suite "Debian 13 trixie chroot" "$MATRIX_DIR/trixie" ;;
    sid)
      ensure_chroot sid
      run_suite "Debian sid chroot" "$MATRIX_DIR/sid"
      previous=$(previous_major_packages "$MATRIX_DIR/sid")
      if [ -z "$previous" ]; then
        say "sid: no older libavformat package: no second release to test"
        continue
      fi
      # libavformatN's Debian dependencies name the libavcodec and libavutil of the same release.
      pkgs=(libavformat"$previous" $(chroot "$MATRIX_DIR/sid" apt-cache depends "libavformat$previous" | sed -nE 's/^ +Depends: (libav(codec|util)[0-9]+)$/\1/p' | sort -u))
      ensure_chroot sid "${pkgs[@]}"
      # A folder holding only that release's libraries: FFmpegLibrary searches CATEVENING_FFMPEG_DIR first for every
      # release, so the older one is chosen although the newer one is installed too.
      libdir=/opt/catevening-ffmpeg-$previous
      rm -rf "${MATRIX_DIR:?}/sid$libdir"; mkdir -p "$MATRIX_DIR/sid$libdir"
      for pkg in "${pkgs[@]}"; do
        name=${pkg%%[0-9]*}; major=${pkg#"$name"}
        for lib in "$MATRIX_DIR"/sid/usr/lib/*/"$name.so.$major"; do ln -sfn "${lib#"$MATRIX_DIR/sid"}" "$MATRIX_DIR/sid$libdir/$name.so.$major"; done
      done
      run_suite "Debian sid chroot, libavformat $previous via CATEVENING_FFMPEG_DIR" "$MATRIX_DIR/sid" "CATEVENING_FFMPEG_DIR=$libdir" ;;
    *) say "unknown environment '$env_name' (host, trixie, sid)"; exit 2 ;;
  esac
done

echo
if grep -q '| FAIL' "$RESULTS"; then
  say "some rows failed"; rm -f "$RESULTS"; exit 1
fi
say "every row passed"
rm -f "$RESULTS"
