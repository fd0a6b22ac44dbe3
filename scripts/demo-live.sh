#!/usr/bin/env bash
# `make demo-live`: the live path on this machine, end to end, in about half a minute.
#   studio (ffmpeg -re) --RTMP--> nginx-rtmp /live/studio --> sei-inject run --> nginx-rtmp /live/program --> viewer
# A cue is fired through the control API while the show runs; the viewer's recording is inspected and the signed
# cue found on its frame; the audit log tells the same story. Everything listens on 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
SEI=(dotnet src/SeiInjector/bin/Release/net10.0/sei-inject.dll)
say() { printf '\n\033[1m[demo-live] %s\033[0m\n' "$*"; }
free_port() {
  local p
  for _ in $(seq 50); do
    p=$((20000 + RANDOM % 40000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
  echo "no free port found" >&2; return 1
}

work=$(mktemp -d /tmp/catevening-demo-live.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  scripts/nginx-rtmp.sh stop "$work/nginx"
}
trap cleanup EXIT

say "nginx-rtmp on loopback (config, logs: $work/nginx)"
rtmp=$(scripts/nginx-rtmp.sh start "$work/nginx")
echo "rtmp://$rtmp/live"

say "keys and an API token"
"${SEI[@]}" keygen --private "$work/show.pem" --public "$work/show.pub"
head -c 24 /dev/urandom | base64 | tr -d '/+=' > "$work/token"
chmod 600 "$work/token"

say "studio: a 4-second test card with a tone, published in a loop with ffmpeg -re"
ffmpeg -hide_banner -v error -f lavfi -i "testsrc2=size=640x360:rate=25:duration=4" -f lavfi -i "sine=frequency=440:duration=4" \
  -c:v libx264 -preset veryfast -g 25 -bf 2 -c:a aac -b:a 64k -f flv -y "$work/studio.flv"
ffmpeg -hide_banner -nostdin -v error -re -stream_loop -1 -i "$work/studio.flv" -c copy -f flv "rtmp://$rtmp/live/studio" &
pids+=($!)

control=127.0.0.1:$(free_port)
metrics=127.0.0.1:$(free_port)
say "sei-inject run: studio -> program, control API on $control, metrics on $metrics, audit log $work/audit.jsonl"
"${SEI[@]}" run -i "rtmp://$rtmp/live/studio" -o "rtmp://$rtmp/live/program" --output-format flv --key "$work/show.pem" \
  --stream-id demo-live --control "$control" --token-file "$work/token" --metrics "$metrics" --audit "$work/audit.jsonl" &
injector=$!
pids+=($injector)

say "viewer: records 10 s of the program stream"
ffmpeg -hide_banner -nostdin -v error -rw_timeout 15000000 -i "rtmp://$rtmp/live/program" -t 10 -c copy -f flv -y "$work/viewer.flv" &
viewer=$!
pids+=($viewer)

for _ in $(seq 100); do
  if "${SEI[@]}" status --control "$control" --token-file "$work/token" 2>/dev/null | grep -q '"output": "connected"'; then break; fi
  sleep 0.2
done
sleep 2

say "the director fires a cue now, and one at a wall-clock time 2 s from now"
"${SEI[@]}" cue --control "$control" --token-file "$work/token" --id red-packet-rain-1 --duration 3s --spread 1s --data '{"prize":"coupon-50"}'
"${SEI[@]}" cue --control "$control" --token-file "$work/token" --id lottery-1 --kind custom --at "$(date -u -d '+2 seconds' +%Y-%m-%dT%H:%M:%S+00:00)" --duration 2s
say "a wrong token is refused (401), and so is a duplicate id (400)"
echo "not-the-right-token-at-all" > "$work/wrong-token"; chmod 600 "$work/wrong-token"
"${SEI[@]}" status --control "$control" --token-file "$work/wrong-token" || true
"${SEI[@]}" cue --control "$control" --token-file "$work/token" --id red-packet-rain-1 || true

sleep 4
say "status (GET /v1/status)"
"${SEI[@]}" status --control "$control" --token-file "$work/token"
say "metrics (GET /metrics, a few lines)"
curl -s "http://$metrics/metrics" 2>/dev/null | grep -E '^catevening_(frames_total|cues|added_latency_seconds_(count|sum))' \
  || echo "(curl not installed: open http://$metrics/metrics)"

wait "$viewer" || true
say "SIGTERM: the injector finishes its packet, writes the trailer, flushes the audit log and exits 0"
kill -TERM "$injector"
set +e; wait "$injector"; echo "sei-inject exit code: $?"; set -e

say "what the viewer received (sei-inject inspect, cues only)"
"${SEI[@]}" inspect "$work/viewer.flv" --public-key "$work/show.pub" | grep -v heartbeat || true

say "the audit log: cue events ($work/audit.jsonl)"
grep -E '"event":"(accepted|delivered|ended|expired|cancelled|unauthorized_summary|stopped)"' "$work/audit.jsonl" | cut -c1-220
echo
echo "Everything is in $work (delete it when done)."
