#!/usr/bin/env bash
# make test-trixie / make test-sid: the NUnit suite of this checkout, built on the host, run inside a Debian chroot of
# scripts/ffmpeg-matrix.sh, so the tests load that release's FFmpeg libraries and judge with its ffmpeg/ffprobe.
#
#   scripts/suite-in-chroot.sh [SUITE] [TEST PROJECT...]
#     SUITE     trixie (FFmpeg 7.1, the default) or sid (FFmpeg 9.x): the chroot $CATEVENING_MATRIX_DIR/SUITE
#               (default /var/cache/catevening-matrix/SUITE), made by `make ffmpeg-matrix`; reused, never made here.
#     PROJECTS  default: tests/SeiReader.Tests tests/SeiInjector.Tests tests/LatencyProbe.Tests (one at a time).
#
# Needs root (chroot, bind mounts) and a Release build of the solution (`make build`). For the run it binds, at the
# same paths: the host's .NET SDK (read-only), the NuGet package folder (read-only) and this checkout (read-write:
# bin/, TestResults/chroot-SUITE/). /proc, /dev and /dev/pts are mounted too. Everything it mounted is unmounted on exit, also
# on failure or Ctrl-C. Inside it installs, when missing, what the tests run: nginx with its RTMP module, openssl,
# node (the WebCrypto cross-check) and ICU. Test media is made afresh by the chroot's ffmpeg, in the chroot's /tmp.
# Before the tests, `sei-inject run` (the built assembly) on a 1 s clip says which FFmpeg release it loaded; the run
# fails when that is not the chroot's own libavformat. Exit status: 1 when a project fails.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

SUITE=${1:-trixie}
[ $# -gt 0 ] && shift
PROJECTS=("$@")
[ ${#PROJECTS[@]} -gt 0 ] || PROJECTS=(tests/SeiReader.Tests tests/SeiInjector.Tests tests/LatencyProbe.Tests)
CONFIG=${CONFIG:-Release}
MATRIX_DIR=${CATEVENING_MATRIX_DIR:-/var/cache/catevening-matrix}
ROOT=$MATRIX_DIR/$SUITE
APT_OPTS=(-o Acquire::Check-Valid-Until=false -o APT::Install-Recommends=false)
say() { printf '[suite-in-chroot] %s\n' "$*" >&2; }

[ "$(id -u)" -eq 0 ] || { say "needs root (chroot and bind mounts)"; exit 1; }
if [ ! -x "$ROOT/usr/bin/ffmpeg" ]; then
  say "no $SUITE chroot with ffmpeg at $ROOT: make it with \`sudo make ffmpeg-matrix\` (or: sudo scripts/ffmpeg-matrix.sh $SUITE)"
  exit 1
fi
dotnet_bin=$(readlink -f "$(command -v dotnet)") || { say "dotnet is missing on the host"; exit 1; }
DOTNET_DIR=$(dirname "$dotnet_bin")
NUGET_DIR=${NUGET_PACKAGES:-$HOME/.nuget/packages}
INJECT_DLL=$repo/src/SeiInjector/bin/$CONFIG/net10.0/sei-inject.dll
for p in "${PROJECTS[@]}"; do
  ls "$repo/$p/bin/$CONFIG"/*/*"$(basename "$p").dll" >/dev/null 2>&1 \
    || { say "$p is not built: run \`dotnet build CatEvening.sln -c $CONFIG\` (or make build) first"; exit 1; }
done
[ -f "$INJECT_DLL" ] || { say "$INJECT_DLL is not built: run \`dotnet build CatEvening.sln -c $CONFIG\` first"; exit 1; }

# --- mounts, all undone on exit ----------------------------------------------------------------------------------
MOUNTED=()
cleanup() {
  local i
  for ((i = ${#MOUNTED[@]} - 1; i >= 0; i--)); do
    umount "${MOUNTED[$i]}" 2>/dev/null || umount -l "${MOUNTED[$i]}" 2>/dev/null || say "could not unmount ${MOUNTED[$i]}"
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# bind SOURCE [ro]: SOURCE at the same path inside the chroot (skipped when something is mounted there already).
bind() {
  local src=$1 target=$ROOT$1
  mkdir -p "$target"
  mountpoint -q "$target" && { say "$target is mounted already: using it"; return; }
  mount --bind "$src" "$target"; MOUNTED+=("$target")
  [ "${2:-}" != ro ] || mount -o remount,bind,ro "$target"
}
mountpoint -q "$ROOT/proc" || { mount -t proc proc "$ROOT/proc"; MOUNTED+=("$ROOT/proc"); }
mountpoint -q "$ROOT/dev" || { mount --bind /dev "$ROOT/dev"; MOUNTED+=("$ROOT/dev"); }
# Pseudo-terminals (LatencyProbe's device tests open one): /dev/pts is a mount of its own, not in the bind of /dev.
mountpoint -q "$ROOT/dev/pts" || { mount --bind /dev/pts "$ROOT/dev/pts"; MOUNTED+=("$ROOT/dev/pts"); }
bind "$DOTNET_DIR" ro
[ -d "$NUGET_DIR" ] && bind "$NUGET_DIR" ro
bind "$repo"

inside() {
  chroot "$ROOT" /usr/bin/env -i HOME=/root TMPDIR=/tmp LANG=C.UTF-8 \
    PATH="$DOTNET_DIR:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" DOTNET_ROOT="$DOTNET_DIR" \
    NUGET_PACKAGES="$NUGET_DIR" DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1 \
    MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0 CATEVENING_TEST_MEDIA=/tmp/catevening-test-media \
    /bin/sh -c 'cd "$0" && exec "$@"' "$repo" "$@"
}

# --- what the tests run, installed in the chroot when missing ------------------------------------------------------
icu=$(chroot "$ROOT" apt-cache search --names-only '^libicu[0-9]+$' | sed -nE 's/^(libicu[0-9]+) .*/\1/p' | sort -V | tail -1)
need=(nginx libnginx-mod-rtmp openssl nodejs ${icu:+"$icu"})
if ! chroot "$ROOT" dpkg -s "${need[@]}" >/dev/null 2>&1; then
  say "$SUITE: apt-get install ${need[*]}"
  chroot "$ROOT" apt-get "${APT_OPTS[@]}" update -qq >&2
  DEBIAN_FRONTEND=noninteractive chroot "$ROOT" apt-get "${APT_OPTS[@]}" install -y -qq "${need[@]}" >&2
fi

# --- which FFmpeg the code loads there -----------------------------------------------------------------------------
cli=$(inside ffmpeg -version | sed -nE '1s/^ffmpeg version ([^ ]+).*/\1/p')
lavf=$(inside ffprobe -version | sed -nE 's/^libavformat +([0-9]+)\..*/\1/p')
say "$SUITE: FFmpeg CLI $cli (libavformat $lavf)"
rm -rf "$ROOT/tmp/catevening-test-media" "$ROOT/tmp/catevening-chroot-check"
mkdir -p "$ROOT/tmp/catevening-chroot-check"
inside sh -c 'cd /tmp/catevening-chroot-check \
  && ffmpeg -nostdin -v error -f lavfi -i testsrc2=size=160x90:rate=25:duration=1 -c:v libx264 -pix_fmt yuv420p clip.ts \
  && dotnet "$0" keygen --private show.key --public show.pub >/dev/null \
  && dotnet "$0" run -i clip.ts -o signed.ts --key show.key 2>run.err; cat run.err >&2' "$INJECT_DLL" || true
loaded=$(sed -nE 's/^sei-inject: (live|started): .*; (FFmpeg .*)$/\2/p' "$ROOT/tmp/catevening-chroot-check/run.err" | head -1)
if [ -z "$loaded" ] || ! grep -q "libavformat $lavf," <<<"$loaded"; then
  say "$SUITE: sei-inject did not load the chroot's libavformat $lavf (it says: ${loaded:-nothing}):"
  cat "$ROOT/tmp/catevening-chroot-check/run.err" >&2
  exit 1
fi
say "$SUITE: sei-inject loaded $loaded"

# --- the suite, one project at a time ------------------------------------------------------------------------------
results=TestResults/chroot-$SUITE
rm -rf "${repo:?}/$results"
status=0
summary=()
for p in "${PROJECTS[@]}"; do
  name=$(basename "$p")
  say "$SUITE: dotnet test $p -c $CONFIG --no-build"
  log=$repo/$results/$name.log
  mkdir -p "$repo/$results"
  inside dotnet test "$p/$name.csproj" -c "$CONFIG" --no-build --no-restore --logger "trx;LogFileName=$name.trx" \
    --logger "console;verbosity=minimal" --results-directory "$results" 2>&1 | tee "$log" || status=1
  summary+=("$name: $(grep -E '^(Passed|Failed)!' "$log" | tail -1 || echo 'no totals (see '"$log"')')")
done

echo
echo "Debian $SUITE chroot: FFmpeg CLI $cli; sei-inject loaded $loaded"
printf '  %s\n' "${summary[@]}"
exit $status
