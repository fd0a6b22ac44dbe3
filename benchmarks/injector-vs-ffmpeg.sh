#!/usr/bin/env bash
# Whole-process comparison, side by side in one run: sei-inject (Native AOT) against `ffmpeg -c copy` and against
# `ffmpeg -c copy -bsf:v h264_metadata=sei_user_data=...` on a 5-minute 720p30 H.264 + AAC FLV, file to file, with
# sei-inject's default heartbeat (1 s) and a 20-cue schedule. Prints the median wall time of RUNS runs of each,
# the ratios, and peak RSS (GNU time -v). Usage: benchmarks/injector-vs-ffmpeg.sh [RUNS]   (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
# tmpfs by default: the comparison is about the programs, not the disk's writeback.
if [ -z "${BENCH_WORK:-}" ] && [ -d /dev/shm ]; then BENCH_WORK=/dev/shm/catevening-bench; fi
work=${BENCH_WORK:-${TMPDIR:-/tmp}/catevening-bench}
mkdir -p "$work"
clip="$work/program-720p30-5min.flv"

if [ ! -x artifacts/bin/sei-inject ]; then
  echo "[bench] building the Native AOT binary (make publish)"
  dotnet publish src/SeiInjector/SeiInjector.csproj -c Release --use-current-runtime -o artifacts/bin -v quiet -nologo >/dev/null
fi
SEI_INJECT=artifacts/bin/sei-inject

if [ ! -s "$clip" ]; then
  echo "[bench] making $clip (5 min, 1280x720, 30 fps, x264 + AAC, keyframe every 2 s)"
  ffmpeg -hide_banner -nostdin -v error -y \
    -f lavfi -i "testsrc2=size=1280x720:rate=30:duration=300" -f lavfi -i "sine=frequency=440:duration=300" \
    -c:v libx264 -preset ultrafast -tune zerolatency -b:v 3M -maxrate 3M -bufsize 6M -g 60 -pix_fmt yuv420p \
    -c:a aac -b:a 128k -f flv "$clip.tmp" && mv "$clip.tmp" "$clip"
fi

rm -f "$work/bench.key" "$work/bench.pub"
"$SEI_INJECT" keygen --private "$work/bench.key" --public "$work/bench.pub" 2>/dev/null
{
  echo "stream: bench"
  echo "cues:"
  for i in $(seq 1 20); do
    echo "  - id: cue-$i"
    echo "    kind: interaction-start"
    echo "    at: $((i * 14))s"
    echo "    duration: 10s"
    echo "    spread: 2s"
    echo "    data: { prize: \"coupon-$i\", round: $i }"
  done
} > "$work/schedule.yaml"

declare -A CMD
CMD[ffmpeg-copy]="ffmpeg -hide_banner -nostdin -v error -y -i $clip -map 0 -c copy -f flv $work/out-copy.flv"
CMD[ffmpeg-h264_metadata]="ffmpeg -hide_banner -nostdin -v error -y -i $clip -map 0 -c copy -bsf:v h264_metadata=sei_user_data=7f4dd11c-dfb8-4e31-82fd-6068876d036e+catevening -f flv $work/out-bsf.flv"
CMD[sei-inject]="$SEI_INJECT run -i $clip -o $work/out-sei.flv --key $work/bench.key --schedule $work/schedule.yaml"
ORDER=(ffmpeg-copy ffmpeg-h264_metadata sei-inject)

declare -A TIMES CPUS RSS
for name in "${ORDER[@]}"; do TIMES[$name]=""; CPUS[$name]=""; RSS[$name]=0; done
# Interleave the runs so that background load on the machine hits every contender alike; one warm-up each.
for name in "${ORDER[@]}"; do ${CMD[$name]} 2>/dev/null; done
for run in $(seq 1 "$RUNS"); do
  for name in "${ORDER[@]}"; do
    start=$(date +%s%N)
    /usr/bin/time -v -o "$work/time.txt" ${CMD[$name]} 2>/dev/null
    wall=$(( ($(date +%s%N) - start) / 1000000 )); wall=$(printf '%d.%03d' $((wall / 1000)) $((wall % 1000)))
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")
    cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {printf "%.2f", s}' "$work/time.txt")
    TIMES[$name]="${TIMES[$name]} $wall"
    CPUS[$name]="${CPUS[$name]} $cpu"
    [ "$rss" -gt "${RSS[$name]}" ] && RSS[$name]=$rss
  done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END { if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2 }'; }
declare -A MED MEDCPU
for name in "${ORDER[@]}"; do MED[$name]=$(echo "${TIMES[$name]}" | median); MEDCPU[$name]=$(echo "${CPUS[$name]}" | median); done

carriers=$(ffprobe -v error -select_streams v -show_frames -show_entries frame_side_data=side_data_type "$work/out-sei.flv" | grep -c 'User Data Unregistered' || true)
same=$( [ "$(ffmpeg -v error -i "$clip" -map 0:v -f framemd5 - | grep -v '^#' | md5sum)" = "$(ffmpeg -v error -i "$work/out-sei.flv" -map 0:v -f framemd5 - | grep -v '^#' | md5sum)" ] && echo yes || echo NO)

printf '\nmachine: %s, %s cores; %s; FFmpeg %s\n' "$(uname -m)" "$(nproc)" "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" "$(ffmpeg -version | head -1 | awk '{print $3}')"
printf 'input: %s (%s bytes) in %s, %s runs each, interleaved, after one warm-up; load average before: %s\n\n' \
  "$(basename "$clip")" "$(stat -c %s "$clip")" "$work" "$RUNS" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '| %-22s | %-12s | %-44s | %-16s | %-9s |\n' "command" "median wall" "wall, each run (s)" "median CPU (u+s)" "peak RSS"
printf '| %-22s | %-12s | %-44s | %-16s | %-9s |\n' "---" "---" "---" "---" "---"
for name in "${ORDER[@]}"; do
  printf '| %-22s | %-12s | %-44s | %-16s | %-9s |\n' "$name" "${MED[$name]} s" "$(echo ${TIMES[$name]})" "${MEDCPU[$name]} s" "$((RSS[$name] / 1024)) MB"
done
printf '\nsei-inject / ffmpeg -c copy:        wall %.3fx, CPU %.3fx\n' "$(echo "${MED[sei-inject]} / ${MED[ffmpeg-copy]}" | bc -l)" "$(echo "${MEDCPU[sei-inject]} / ${MEDCPU[ffmpeg-copy]}" | bc -l)"
printf 'sei-inject / ffmpeg h264_metadata:  wall %.3fx, CPU %.3fx\n' "$(echo "${MED[sei-inject]} / ${MED[ffmpeg-h264_metadata]}" | bc -l)" "$(echo "${MEDCPU[sei-inject]} / ${MEDCPU[ffmpeg-h264_metadata]}" | bc -l)"
printf 'sei-inject output: %s user_data_unregistered SEI messages seen by ffprobe; decoded frames identical to the input: %s\n' "$carriers" "$same"
start=$(date +%s%N)
for i in $(seq 1 20); do "$SEI_INJECT" --help >/dev/null; done
printf 'sei-inject start-up (--help, mean of 20): %d ms\n' $(( ($(date +%s%N) - start) / 20000000 ))
