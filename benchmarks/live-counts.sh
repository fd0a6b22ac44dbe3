#!/usr/bin/env bash
# Load-insensitive counts of one sei-inject run against an `ffmpeg -c copy` relay of the same live stream (issue 9):
# one loopback nginx-rtmp, one `ffmpeg -re` publisher (the 720p30 H.264 + AAC test card of live-streams.sh), one relay
# and one injector pulling the same live/in at once. After WARMUP s, `perf stat --per-thread` counts over WINDOW s, for
# the relay's thread, the injector's pipeline (main) thread and every other injector thread: system calls, context
# switches, wake-ups, page faults and CPU time (task-clock; the only figure here that load changes). Per packet =
# divided by the packets the injector wrote in the window (GET /v1/status), which the relay copies alike.
#   benchmarks/live-counts.sh [WINDOW_SECONDS] [WARMUP_SECONDS]      (needs perf and root for the tracepoints)
#   SEI_INJECT=artifacts/bin/sei-inject benchmarks/live-counts.sh 30 10    (Native AOT: make publish)
#   INJECT_ENV="DOTNET_GCgen0size=0x400000" ... passes environment variables to the injector only; INJECTOR_FIRST=1
#   subscribes the injector to nginx before the relay (default: the relay first, as live-streams.sh does).
set -euo pipefail
cd "$(dirname "$0")/.."
window=${1:-30}
warmup=${2:-10}
if [ -n "${SEI_INJECT:-}" ]; then SEI=("$SEI_INJECT"); else SEI=(dotnet src/SeiInjector/bin/Release/net10.0/sei-inject.dll); fi
. benchmarks/lib/live-setup.sh
live_setup live-counts "${SEI[@]}"
ffmpeg -hide_banner -nostdin -v error -re -stream_loop -1 -i "$work/card.flv" -c copy -f flv "rtmp://$rtmp/live/in" &
pids+=($!)
sleep 1
start_relay() {
  ffmpeg -hide_banner -nostdin -v error -rw_timeout 15000000 -i "rtmp://$rtmp/live/in" -c copy -f flv "rtmp://$rtmp/live/relay" &
  relay=$!; pids+=($!)
}
control=127.0.0.1:$(port)
start_injector() {
  env ${INJECT_ENV:-} "${SEI[@]}" run -i "rtmp://$rtmp/live/in" -o "rtmp://$rtmp/live/out" --output-format flv --key "$work/k.pem" \
    --control "$control" --token-file "$work/token" 2>"$work/run.log" &
  injector=$!; pids+=($!)
}
# Which one subscribes to nginx first (INJECTOR_FIRST=1: the injector); the order moved the switches of two injectors.
if [ "${INJECTOR_FIRST:-0}" = 1 ]; then start_injector; sleep 2; start_relay; else start_relay; start_injector; fi
sleep "$warmup"
packets() { curl -s -m 5 -H "Authorization: Bearer $(cat "$work/token")" "http://$control/v1/status" | tr -d '\n ' | grep -o '"packets":[0-9]*' | head -1 | cut -d: -f2; }
p0=$(packets)
perf stat -x, --per-thread -e raw_syscalls:sys_enter,sched:sched_switch,sched:sched_wakeup,page-faults,task-clock \
  -p "$relay,$injector" -o "$work/stat.csv" -- sleep "$window"
p1=$(packets)
echo "$( [ "${INJECTOR_FIRST:-0}" = 1 ] && echo "injector subscribed first" || echo "relay subscribed first"); machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); window ${window} s after ${warmup} s warm-up; $((p1 - p0)) packets"
awk -F, -v relay="$relay" -v inj="$injector" -v n="$((p1 - p0))" -v w="$window" '
  /^#/ || NF < 4 { next }
  {
    tid = $1; sub(/.*-/, "", tid); v = ($2 ~ /^[0-9.]+$/) ? $2 : 0
    who = (tid == relay) ? "relay" : (tid == inj) ? "pipe" : "other"
    if (who == "other" && v > 0 && $4 == "sched:sched_switch") { name = $1; sub(/-[0-9]+$/, "", name); others[name] += v }
    c[who, $4] += v
  }
  END {
    printf "| thread | syscalls per packet | context switches per s | wake-ups per s | page faults | CPU ms per s (load-sensitive) |\n| --- | --- | --- | --- | --- | --- |\n"
    split("relay pipe other", ws, " "); split("ffmpeg relay|sei-inject pipeline thread|sei-inject other threads", names, "|")
    for (i = 1; i <= 3; i++) { x = ws[i]
      printf "| %s | %.2f | %.1f | %.1f | %d | %.2f |\n", names[i], c[x, "raw_syscalls:sys_enter"] / n, c[x, "sched:sched_switch"] / w,
        c[x, "sched:sched_wakeup"] / w, c[x, "page-faults"], c[x, "task-clock"] / w }
    s = ""; for (k in others) s = s sprintf("%s %d, ", k, others[k]); print "other threads'\'' context switches in the window: " s
  }' "$work/stat.csv"
