#!/usr/bin/env bash
# Installs what CatEvening needs and is missing: FFmpeg shared libraries and CLIs, nginx with its RTMP module, redis-server (the cue bus), Mono
# (the netstandard2.0 check), Node.js (the web players' tests in tests/node), then restores NuGet and npm packages.
# Says what it does; does nothing when all is there.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[deps] %s\n' "$*"; }
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else say "not root and no sudo: install packages by hand if any are missing"; fi
fi

if ! command -v dotnet >/dev/null 2>&1; then
  say "the .NET SDK 10 is missing: install it from https://dotnet.microsoft.com/download (dotnet-sdk-10.0), then run make again"
  exit 1
fi

have_ffmpeg() {
  command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1 || return 1
  case "$(uname -s)" in
    Darwin) return 0 ;;
    *) ldconfig -p 2>/dev/null | grep -E 'libavformat\.so\.(59|60|61|62|63)' >/dev/null ;;  # no -q: an early exit would SIGPIPE ldconfig under pipefail
  esac
}
# Mono (runtime and mcs) runs the Mono job of `make test`: SeiReader as Mono and Unity load it.
have_mono() {
  command -v mono >/dev/null 2>&1 && command -v mcs >/dev/null 2>&1
}
have_nginx_rtmp() {
  command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || return 1
  # pipefail is on: test each candidate rather than piping ls (which fails when one of them is absent).
  [ -e /usr/lib/nginx/modules/ngx_rtmp_module.so ] || [ -e /usr/lib64/nginx/modules/ngx_rtmp_module.so ] || [ "$(uname -s)" = Darwin ]
}

# Debian's chromium: the operator console's browser tests drive it through Playwright (no browser download).
have_chromium() {
  [ -x /usr/bin/chromium ] || [ "$(uname -s)" = Darwin ]
}

missing=()
have_ffmpeg || missing+=(ffmpeg)
have_nginx_rtmp || missing+=(nginx-rtmp)
have_mono || missing+=(mono)
have_chromium || missing+=(chromium)
# redis-server: the cue bus of a show with several injectors (src/SeiInjector.Core/Bus); its tests start private ones.
command -v redis-server >/dev/null 2>&1 || missing+=(redis)
{ command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; } || missing+=(node)
if [ ${#missing[@]} -gt 0 ]; then
  say "missing: ${missing[*]}"
  if command -v apt-get >/dev/null 2>&1; then
    # The library packages carry the major in their names, which differ per release (see FFmpegLibrary's error text).
    codename=$( { . /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}"; } || true)
    case $codename in
      bookworm) ffmpeg_libs=(libavformat59 libavcodec59 libavutil57) ;;                  # FFmpeg 5.1
      noble) ffmpeg_libs=(libavformat60 libavcodec60 libavutil58) ;;                     # FFmpeg 6.1
      trixie|oracular|plucky) ffmpeg_libs=(libavformat61 libavcodec61 libavutil59) ;;    # FFmpeg 7.x
      forky|sid) ffmpeg_libs=(libavformat63 libavcodec63 libavutil61) ;;                 # FFmpeg 9.x
      *) ffmpeg_libs=() ;;                                                                # ffmpeg pulls in its own
    esac
    pkgs=()
    for m in "${missing[@]}"; do
      case $m in
        ffmpeg) pkgs+=(ffmpeg "${ffmpeg_libs[@]}") ;;
        nginx-rtmp) pkgs+=(nginx libnginx-mod-rtmp) ;;
        mono) pkgs+=(mono-devel) ;;
        chromium) pkgs+=(chromium) ;;
        node) pkgs+=(nodejs npm) ;;
        redis) pkgs+=(redis-server) ;;
      esac
    done
    say "apt-get install ${pkgs[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null \
      || DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq ffmpeg nginx libnginx-mod-rtmp mono-devel nodejs npm chromium redis-server >/dev/null
  elif command -v dnf >/dev/null 2>&1; then
    say "dnf install ffmpeg ffmpeg-libs nginx nginx-mod-rtmp mono-devel nodejs npm chromium redis (needs RPM Fusion for FFmpeg; the browser tests expect /usr/bin/chromium)"
    $SUDO dnf install -y ffmpeg ffmpeg-libs nginx nginx-mod-rtmp mono-devel nodejs npm chromium redis
  elif command -v brew >/dev/null 2>&1; then
    say "brew install ffmpeg nginx mono node redis (the RTMP module is not packaged by Homebrew: live tests will be skipped)"
    brew install ffmpeg nginx mono node redis
  else
    say "no apt-get, dnf or brew here: install FFmpeg 5.1 to 9.x (libavformat 59 to 63 and the ffmpeg CLI), nginx with its RTMP module, Mono (mono, mcs), Node.js (node, npm) and redis-server by hand"
    exit 1
  fi
  # apt-get may have started nginx as a system service: the tests start their own on loopback ports.
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet nginx 2>/dev/null; then $SUDO systemctl stop nginx || true; fi
  say "installed"
else
  say "FFmpeg, nginx-rtmp, Mono and Node.js present"
fi

say "restoring NuGet packages"
dotnet restore CatEvening.sln --verbosity quiet

# The web players' demuxers (hls.js, mpegts.js) and esbuild, pinned by tests/node/package-lock.json.
if [ ! -e tests/node/node_modules/.package-lock.json ] || [ tests/node/package-lock.json -nt tests/node/node_modules/.package-lock.json ]; then
  say "npm ci in tests/node"
  (cd tests/node && npm ci --no-audit --no-fund --loglevel=error)
fi
# The browser reader package (web/sei-reader): TypeScript, pinned by its package-lock.json.
if [ ! -e web/sei-reader/node_modules/.package-lock.json ] || [ web/sei-reader/package-lock.json -nt web/sei-reader/node_modules/.package-lock.json ]; then
  say "npm ci in web/sei-reader"
  (cd web/sei-reader && npm ci --no-audit --no-fund --loglevel=error)
fi
