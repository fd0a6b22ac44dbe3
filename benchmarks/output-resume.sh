#!/usr/bin/env bash
# How soon the output comes back after the ingest restarts (issue 9: "within 2 s of nginx coming back"), whole
# process: `sei-inject run --listen` waits for its publisher (ffmpeg -re, 720p30 H.264 + AAC, a keyframe every KEYINT
# frames: default 60, 2 s) and
# writes to an ingest nginx-rtmp that is stopped (scripts/nginx-rtmp.sh stop) and started again RESTARTS times, about OUTAGE seconds down
# each time. For each restart the script polls GET /v1/status every 20 ms from the moment nginx accepts connections
# again until the output is `connected` and its packet count grows, and prints that time; it also prints the
# injector's input reconnect count (0: the publisher was never dropped). Exits non-zero when one resume took more than
# LIMIT seconds (default 2).
#   benchmarks/output-resume.sh [RESTARTS] [OUTAGE_SECONDS] [LIMIT_SECONDS]     (build first: make build)
#   KEYINT=30 benchmarks/output-resume.sh 5 5 2                                  (a keyframe every second)
set -euo pipefail
cd "$(dirname "$0")/.."
restarts=${1:-5}
outage=${2:-5}
limit=${3:-2}
if [ -n "${SEI_INJECT:-}" ]; then SEI=("$SEI_INJECT"); else SEI=(dotnet src/SeiInjector/bin/Release/net10.0/sei-inject.dll); fi
work=$(mktemp -d /tmp/catevening-output-resume.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  scripts/nginx-rtmp.sh stop "$work/nginx" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
port() { local p; for _ in $(seq 50); do p=$((20000 + RANDOM % 40000)); (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }; done; return 1; }
# curl, not `sei-inject status`: starting a .NET process per poll would be most of what is measured on a loaded machine.
status() { curl -s -m 2 -H "Authorization: Bearer $(cat "$work/token")" "http://$control/v1/status" | tr -d '\n ' || true; }
field() { grep -o "\"$1\":[^,}]*" | head -1 | cut -d: -f2 | tr -d '"'; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

ingest=$(scripts/nginx-rtmp.sh start "$work/nginx")
ingest_port=${ingest##*:}
"${SEI[@]}" keygen --private "$work/k.pem" --public "$work/k.pub" >/dev/null 2>&1
head -c 24 /dev/urandom | base64 | tr -d '/+=' > "$work/token"
chmod 600 "$work/token"
ffmpeg -hide_banner -v error -f lavfi -i "testsrc2=size=1280x720:rate=30:duration=10" -f lavfi -i "sine=frequency=440:duration=10" \
  -c:v libx264 -preset veryfast -g "${KEYINT:-60}" -bf 2 -b:v 3M -c:a aac -b:a 128k -f flv -y "$work/card.flv"
listen=127.0.0.1:$(port); control=127.0.0.1:$(port)
"${SEI[@]}" run -i "rtmp://$listen/live/show" --listen -o "rtmp://$ingest/live/show" --output-format flv --key "$work/k.pem" \
  --control "$control" --token-file "$work/token" --analyze-duration 500ms 2>"$work/run.log" &
pids+=($!)
for _ in $(seq 200); do grep -q "waiting for a publisher" "$work/run.log" && break; sleep 0.05; done
for _ in $(seq 100); do
  ffmpeg -hide_banner -nostdin -v error -re -stream_loop -1 -i "$work/card.flv" -c copy -f flv "rtmp://$listen/live/show" &
  publisher=$!
  sleep 1
  kill -0 "$publisher" 2>/dev/null && break
done
pids+=($publisher)
for _ in $(seq 300); do [ "$(status | field output)" = connected ] && break; sleep 0.1; done
worst=0
for r in $(seq 1 "$restarts"); do
  scripts/nginx-rtmp.sh stop "$work/nginx" >/dev/null
  sleep "$outage"
  before=$(status | field packets)
  scripts/nginx-rtmp.sh start "$work/nginx" "$ingest_port" >/dev/null
  t0=$(now_ms)
  for _ in $(seq 1500); do
    s=$(status)
    if [ "$(echo "$s" | field output)" = connected ] && [ "$(echo "$s" | field packets)" -gt "$before" ]; then break; fi
    sleep 0.02
  done
  took=$(($(now_ms) - t0))
  [ "$took" -gt "$worst" ] && worst=$took
  echo "restart $r: output resumed $(awk -v t="$took" 'BEGIN { printf "%.3f", t / 1000 }') s after nginx was back"
done
s=$(status)
echo "input_reconnects $(echo "$s" | field input_reconnects), output_reconnects $(echo "$s" | field output_reconnects), dropped_packets $(echo "$s" | field dropped_packets), publisher alive: $(kill -0 "$publisher" 2>/dev/null && echo yes || echo no)"
if [ "$worst" -le $((limit * 1000)) ]; then echo "worst resume $worst ms <= $limit s: ok"; else echo "worst resume $worst ms > $limit s: FAILED"; exit 1; fi
