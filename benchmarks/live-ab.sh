#!/usr/bin/env bash
# Two sei-inject builds against each other and against an `ffmpeg -c copy` relay, on the same live streams at once
# (issue 9): one loopback nginx-rtmp; M publishers (`ffmpeg -re`, the 720p30 H.264 + AAC test card of live-streams.sh)
# push live/inK; for each, one relay, one injector A and one injector B (control API, default heartbeat) pull live/inK.
# Which of the three subscribes to nginx first rotates from stream to stream (the order moves a process's context
# switches by 15-35 %, RESULTS.md), so give M as a multiple of 3. After WARMUP s, the CPU time of every thread of every
# process is read from /proc/PID/task/*/schedstat (nanoseconds) over WINDOW s. Prints CPU per stream for each and the
# ratios; B/A is the figure to compare builds by (both see the same load), and swapping A and B between runs cancels
# any advantage of the position. Also printed: nginx's CPU and the whole machine's busy time and context switches over
# the window (to see whether a saving on one side is paid for elsewhere). A_EXTRA / B_EXTRA add `run` options to one side.
#   benchmarks/live-ab.sh A_BINARY B_BINARY [M] [WINDOW_SECONDS] [WARMUP_SECONDS]
#   benchmarks/live-ab.sh /tmp/sei-inject-before artifacts/bin/sei-inject 6 30 8      (Native AOT builds: make publish)
#   A_EXTRA="--sched-slice default" benchmarks/live-ab.sh artifacts/bin/sei-inject artifacts/bin/sei-inject 6 30 10
set -euo pipefail
cd "$(dirname "$0")/.."
a_bin=$1
b_bin=$2
m=${3:-6}
window=${4:-30}
warmup=${5:-8}
. benchmarks/lib/live-setup.sh
cpu_ns() { local t=0 v; for f in /proc/"$1"/task/*/schedstat; do read -r v _ < "$f" 2>/dev/null && t=$((t + v)); done; echo "$t"; }
busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }   # user nice system irq softirq, in CLK_TCK ticks
sum_ns() { local s=0 pid; for pid in "$@"; do s=$((s + $(cpu_ns "$pid"))); done; echo "$s"; }

live_setup live-ab "$a_bin"
for k in $(seq 1 "$m"); do
  ffmpeg -hide_banner -nostdin -v error -re -stream_loop -1 -i "$work/card.flv" -c copy -f flv "rtmp://$rtmp/live/in$k" &
  pids+=($!)
done
sleep 1
relays=(); as=(); bs=()
for k in $(seq 1 "$m"); do
  for i in 0 1 2; do
    case $(( (i + k) % 3 )) in
      0) ffmpeg -hide_banner -nostdin -v error -rw_timeout 15000000 -i "rtmp://$rtmp/live/in$k" -c copy -f flv "rtmp://$rtmp/live/relay$k" &
         relays+=($!) ;;
      1) "$a_bin" run -i "rtmp://$rtmp/live/in$k" -o "rtmp://$rtmp/live/a$k" --output-format flv --key "$work/k.pem" \
           --control "127.0.0.1:$(port)" --token-file "$work/token" ${A_EXTRA:-} 2>"$work/a$k.log" &
         as+=($!) ;;
      2) "$b_bin" run -i "rtmp://$rtmp/live/in$k" -o "rtmp://$rtmp/live/b$k" --output-format flv --key "$work/k.pem" \
           --control "127.0.0.1:$(port)" --token-file "$work/token" ${B_EXTRA:-} 2>"$work/b$k.log" &
         bs+=($!) ;;
    esac
    pids+=($!)
  done
done
ngx=($(pgrep -f "nginx: worker" || true))
sleep "$warmup"
t0=$(busy_ticks); c0=$(awk '/^ctxt/ { print $2 }' /proc/stat); n0=$(sum_ns "${ngx[@]}"); r0=$(sum_ns "${relays[@]}"); a0=$(sum_ns "${as[@]}"); b0=$(sum_ns "${bs[@]}")
sleep "$window"
t1=$(busy_ticks); c1=$(awk '/^ctxt/ { print $2 }' /proc/stat); n1=$(sum_ns "${ngx[@]}"); r1=$(sum_ns "${relays[@]}"); a1=$(sum_ns "${as[@]}"); b1=$(sum_ns "${bs[@]}")
alive=0
for pid in "${relays[@]}" "${as[@]}" "${bs[@]}"; do kill -0 "$pid" 2>/dev/null && alive=$((alive + 1)); done
if [ "$alive" != $((3 * m)) ]; then
  echo "only $alive of $((3 * m)) processes still running: no figures" >&2
  # Which one, and why: an injector's log, or the relay's exit status (its errors went to this script's stderr above).
  for k in $(seq 1 "$m"); do
    for side in a b; do
      pid=$([ $side = a ] && echo "${as[$((k - 1))]}" || echo "${bs[$((k - 1))]}")
      kill -0 "$pid" 2>/dev/null || { rc=0; wait "$pid" || rc=$?; echo "injector $side$k (pid $pid) exited $rc:" >&2; tail -5 "$work/$side$k.log" >&2; }
    done
    pid=${relays[$((k - 1))]}
    kill -0 "$pid" 2>/dev/null || { rc=0; wait "$pid" || rc=$?; echo "relay $k (pid $pid) exited $rc" >&2; }
  done
  exit 1
fi
awk -v c=$((c1 - c0)) -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v n=$((n1 - n0)) -v r=$((r1 - r0)) -v a=$((a1 - a0)) -v b=$((b1 - b0)) -v m="$m" -v w="$window" -v load="$(cut -d' ' -f1-3 /proc/loadavg)" 'BEGIN {
  printf "M = %d streams, window %d s, load average %s; nginx %.2f ms/s, whole machine busy %.1f ms/s, %d context switches/s\n", m, w, load, n / w / 1e6, t * 1000 / hz / w, c / w
  printf "| relay (ms/s per stream) | A (ms/s) | A / relay | B (ms/s) | B / relay | B / A |\n| --- | --- | --- | --- | --- | --- |\n"
  printf "| %.2f | %.2f | %.3fx | %.2f | %.3fx | %.3f |\n", r / m / w / 1e6, a / m / w / 1e6, a / r, b / m / w / 1e6, b / r, b / a }'
