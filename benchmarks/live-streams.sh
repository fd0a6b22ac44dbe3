#!/usr/bin/env bash
# CPU time per live stream, sei-inject against an `ffmpeg -c copy` relay of the same stream through the same nginx
# (issue 9). One loopback nginx-rtmp; for each N in STREAMS (default "1 8 32"), N publishers (`ffmpeg -re`, a 720p30
# H.264 + AAC test card, 3 Mb/s) push live/inK; N `ffmpeg -c copy` relays pull live/inK and push live/relayK while N
# `sei-inject run` (default heartbeat, control API) pull the same live/inK and push live/outK, all at once, so the
# machine's load hits both alike. After WARMUP s, the user+system CPU time of every relay and every injector is read
# from /proc over WINDOW s. Prints, per N, CPU per stream (ms per second of media) for each and their ratio, and the
# injectors' added latency p99 from GET /v1/status (median and worst of the N), and the scheduler slice each
# injector's tuner had chosen at the end (`--sched-slice auto`, the default: its first comparison takes ~30 s), and the
# whole machine's busy time over the window (every process, nginx and the publishers included). SEI_EXTRA adds `run`
# options to every injector (e.g. SEI_EXTRA="--sched-slice default").
# Subscription order: of a stream's two subscribers, the one nginx serves first costs more (on 2 cores it is woken while
# nginx still writes to the second, and migrates between cores about three times as often: RESULTS.md eighteenth pass,
# 0.55-0.64x with the relay first against 1.13-1.22x with the injector first, same binary). So the second subscriber is
# started only once nginx has logged the first's play: odd streams the relay first, even ones the injector. N = 1 has
# one stream only, so it is measured in ROUNDS1 rounds (default 4) alternating the order, and its row is all the rounds
# together (each round's own figures are printed on standard error).
#   benchmarks/live-streams.sh [WINDOW_SECONDS] [WARMUP_SECONDS]     (build first: make build)
#   STREAMS="1 8" SEI_INJECT=artifacts/bin/sei-inject benchmarks/live-streams.sh 30 10   (Native AOT: make publish)
set -euo pipefail
cd "$(dirname "$0")/.."
window=${1:-30}
warmup=${2:-10}
streams=${STREAMS:-1 8 32}
if [ -n "${SEI_INJECT:-}" ]; then SEI=("$SEI_INJECT"); else SEI=(dotnet src/SeiInjector/bin/Release/net10.0/sei-inject.dll); fi
. benchmarks/lib/live-setup.sh
ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
sum_ticks() { local s=0; for pid in "$@"; do s=$((s + $(cpu_ticks "$pid"))); done; echo "$s"; }
# The same in ns, summed over the threads' schedstat (run time): no 10 ms tick rounding, but a thread that ends inside
# the window is missed, so it is printed beside the tick figure (which counts every thread), not instead of it.
sum_ns() { local s=0 v; for pid in "$@"; do for t in /proc/"$pid"/task/*/schedstat; do read -r v _ < "$t" 2>/dev/null && s=$((s + v)); done; done; echo "$s"; }
threads() { local s=0; for pid in "$@"; do s=$((s + $(ls /proc/"$pid"/task 2>/dev/null | wc -l))); done; echo "$s"; }
busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }   # whole machine: user nice system irq softirq

live_setup live-streams "${SEI[@]}"

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); window ${window} s after ${warmup} s warm-up"
printf '| streams | relay CPU per stream (ms/s) | sei-inject CPU per stream (ms/s) | ratio | added latency p99, median of N (ms) | worst p99 (ms) | slice at the end: long / own / comparing | whole machine busy (ms/s) |\n'
printf '| --- | --- | --- | --- | --- | --- | --- | --- |\n'
# Waits (up to 30 s, polling nginx's log) until stream NAME has COUNT players, so the next subscriber comes after them.
wait_plays() {
  local i
  for i in $(seq 600); do
    [ "$(grep -c "play: name='$1' " "$work/nginx/logs/error.log" 2>/dev/null || true)" -ge "$2" ] && return 0
    sleep 0.05
  done
  echo "live-streams: $1 never had $2 player(s) at nginx" >&2
}

rounds_run=0
# One round of N streams: FLIP 0 subscribes the relay first on odd streams, 1 the injector first on odd streams.
measure() {
  # The round's number in the names: nginx's log of an earlier round's plays must not count for this one.
  rounds_run=$((rounds_run + 1))
  local n=$1 flip=$2 k tag="$1-$2-$rounds_run"
  relays=(); injectors=(); controls=()
  for k in $(seq 1 "$n"); do
    ffmpeg -hide_banner -nostdin -v error -re -stream_loop -1 -i "$work/card.flv" -c copy -f flv "rtmp://$rtmp/live/in$tag-$k" &
    pids+=($!)
  done
  start_relay() {
    ffmpeg -hide_banner -nostdin -v error -rw_timeout 15000000 -i "rtmp://$rtmp/live/in$tag-$k" -c copy -f flv "rtmp://$rtmp/live/relay$tag-$k" &
    relays+=($!); pids+=($!)
  }
  start_injector() {
    control=127.0.0.1:$(port)
    "${SEI[@]}" run -i "rtmp://$rtmp/live/in$tag-$k" -o "rtmp://$rtmp/live/out$tag-$k" --output-format flv --key "$work/k.pem" \
      --control "$control" --token-file "$work/token" ${SEI_EXTRA:-} 2>"$work/run$tag-$k.log" &
    injectors+=($!); pids+=($!); controls+=("$control")
  }
  # nginx serves a stream's subscribers in the order they came, and the order moved the context switches of two
  # injectors of one stream (RESULTS.md sixth pass): odd streams subscribe the relay first, even ones the injector, so
  # at N >= 2 neither side always comes second.
  for k in $(seq 1 "$n"); do
    if [ $(((k + flip) % 2)) = 1 ]; then start_relay; wait_plays "in$tag-$k" 1; start_injector
    else start_injector; wait_plays "in$tag-$k" 1; start_relay; fi
  done
  sleep "$warmup"
  r0=$(sum_ticks "${relays[@]}"); i0=$(sum_ticks "${injectors[@]}"); b0=$(busy_ticks)
  rn0=$(sum_ns "${relays[@]}"); in0=$(sum_ns "${injectors[@]}"); it0=$(threads "${injectors[@]}")
  sleep "$window"
  r1=$(sum_ticks "${relays[@]}"); i1=$(sum_ticks "${injectors[@]}"); b1=$(busy_ticks)
  rn1=$(sum_ns "${relays[@]}"); in1=$(sum_ns "${injectors[@]}"); it1=$(threads "${injectors[@]}")
  awk -v n="$n" -v r="$((rn1 - rn0))" -v i="$((in1 - in0))" -v w="$window" -v t0="$it0" -v t1="$it1" 'BEGIN {
    printf "N = %d, threads run time (schedstat, ns precision): relay %.3f, sei-inject %.3f ms/s per stream: %.3fx (injector threads %d at the start, %d at the end)\n",
      n, r / 1e6 / w / n, i / 1e6 / w / n, (r > 0 ? i / r : 0), t0, t1 }' >&2
  p99s=()
  for control in "${controls[@]}"; do
    # curl, not `sei-inject status`: 32 .NET start-ups on a loaded machine would take minutes.
    p=$(curl -s -m 5 -H "Authorization: Bearer $(cat "$work/token")" "http://$control/v1/status" | tr -d '\n ' | grep -o '"added_latency":{[^}]*}' | grep -o '"p99_ms":[0-9.eE+-]*' | cut -d: -f2 || true)
    [ -n "$p" ] && p99s+=("$p")
  done
  live=$(grep -l ": live input" "$work"/run$tag-*.log 2>/dev/null | wc -l)
  # The packet thread's scheduler slice as each injector's tuner last chose it (`--sched-slice auto`, the default).
  long=0; own=0; comparing=0
  for f in "$work"/run$tag-*.log; do
    case $(grep -o "pipeline thread: \(scheduler slice [0-9.]* ms:\|keeps its own\)" "$f" | tail -1) in
      *"scheduler slice"*) long=$((long + 1)) ;; *"keeps its own"*) own=$((own + 1)) ;; *) comparing=$((comparing + 1)) ;;
    esac
  done
  # The tuners' last estimates, long against own in %, sorted (negative: the long slice measured cheaper).
  estimates=$(for f in "$work"/run$tag-*.log; do grep -o "pipeline thread: .*CPU per packet" "$f" | tail -1 | \
    sed -n 's/.*: \([0-9.]*\) % less CPU.*/-\1/p; s/.* cost \([0-9.]*\) % more CPU.*/\1/p; s/.*: \([0-9.]*\) % more CPU per packet than.*/\1/p' || true; done | sort -g | tr '\n' ' ')
  [ -n "$estimates" ] && echo "N = $n: the tuners' estimates, long slice against own (%): $estimates" >&2
  stop_all
  # This round's figures, for row (below).
  round=("$((r1 - r0))" "$((i1 - i0))" "$window" "$live" "${p99s[*]:-}" "$long" "$own" "$((b1 - b0))")
}

# Prints a table row: N, a label, then relay ticks, injector ticks, window (s), live injectors, p99s, long, own, busy ticks.
row() {
  awk -v n="$1" -v label="$2" -v r="$3" -v i="$4" -v w="$5" -v live="$6" -v p99="$7" -v long="$8" -v own="$9" -v busy="${10}" -v t="$ticks" 'BEGIN {
    rc = r * 1000 / t / w / n; ic = i * 1000 / t / w / n
    m = split(p99, a, " "); for (x = 1; x <= m; x++) for (y = x + 1; y <= m; y++) if (a[y] + 0 < a[x] + 0) { s = a[x]; a[x] = a[y]; a[y] = s }
    med = m ? a[int((m + 1) / 2)] : "n/a"; worst = m ? a[m] : "n/a"
    printf "| %d%s (%d live) | %.2f | %.2f | %.2fx | %s | %s | %d / %d / %d | %.0f |\n", n, label, live, rc, ic, (rc > 0 ? ic / rc : 0), med, worst, long, own, live - long - own, busy * 1000 / t / w }'
}

for n in $streams; do
  if [ "$n" = 1 ]; then
    # One stream: ROUNDS1 rounds (default 4), alternately relay first and injector first; the row is all of them together
    # (CPU time summed over every round's window). One round per order moved from 1.03x to 0.85x between two runs of one
    # binary (RESULTS.md nineteenth pass): the order's cost swings more than the difference being measured.
    total=(0 0 0 0 "" 0 0 0)
    for r in $(seq 1 "${ROUNDS1:-4}"); do
      flip=$(((r + 1) % 2))
      measure 1 "$flip"
      label=$([ "$flip" = 0 ] && echo "relay subscribed first" || echo "injector subscribed first")
      echo "N = 1, round $r, $label: $(row 1 "" "${round[@]}")" >&2
      for x in 0 1 2 3 5 6 7; do total[x]=$((total[x] + round[x])); done
      total[4]="${total[4]} ${round[4]}"
    done
    row 1 ", both orders x ${ROUNDS1:-4}" "${total[@]}"
  else
    measure "$n" 0
    row "$n" "" "${round[@]}"
  fi
done
