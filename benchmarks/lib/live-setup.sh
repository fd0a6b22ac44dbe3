# Shared set-up of the live benchmark scripts (sourced, from the repository root): a work folder, a loopback
# nginx-rtmp, a signing key, a control-API token and the 720p30 H.264 + AAC test card (3 Mb/s, 20 s, looped by the
# publishers), and a cleanup that stops every process in `pids` and nginx when the script exits.
#   live_setup NAME KEYGEN_COMMAND...    sets: work, rtmp (HOST:PORT of nginx), pids=(); files: $work/k.pem, k.pub, token, card.flv
#   port                                 prints a free loopback TCP port
#   stop_all                             stops every process in `pids` (nginx stays)

stop_all() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
}

live_cleanup() {
  stop_all
  scripts/nginx-rtmp.sh stop "$work/nginx" || true
  rm -rf "$work"
}

port() { local p; for _ in $(seq 50); do p=$((20000 + RANDOM % 40000)); (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }; done; return 1; }

live_setup() {
  local name=$1; shift
  work=$(mktemp -d "/tmp/catevening-$name.XXXXXX")
  pids=()
  trap live_cleanup EXIT
  rtmp=$(scripts/nginx-rtmp.sh start "$work/nginx")
  "$@" keygen --private "$work/k.pem" --public "$work/k.pub" >/dev/null 2>&1
  head -c 24 /dev/urandom | base64 | tr -d '/+=' > "$work/token"
  chmod 600 "$work/token"
  ffmpeg -hide_banner -v error -f lavfi -i "testsrc2=size=1280x720:rate=30:duration=20" -f lavfi -i "sine=frequency=440:duration=20" \
    -c:v libx264 -preset veryfast -g 60 -bf 2 -b:v 3M -c:a aac -b:a 128k -f flv -y "$work/card.flv"
}
