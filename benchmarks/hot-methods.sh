#!/usr/bin/env bash
# Regenerates src/SeiInjector/hot-methods.txt: the managed methods the pipeline thread of a live `sei-inject run` spends
# its own time in, hottest first, which the Native AOT compiler places next to each other (SeiInjector.csproj:
# --method-layout:explicit --order). One loopback nginx-rtmp, one `ffmpeg -re` publisher (the 720p30 H.264 + AAC test
# card of live-streams.sh), one injector with the control API and the default heartbeat; after WARMUP s its pipeline
# thread is sampled at 20 kHz for WINDOW s (perf), the samples are mapped to the binary's symbols (nm of the .dbg file
# the publish writes beside it) and every compiled managed method sampled is written out. Methods the compiler no
# longer has are skipped by it; rerun after a change to the per-packet path and rebuild (make publish). Methods listed
# before and not sampled this time are kept after the sampled ones (FRESH=1 writes only what this run sampled).
#   SEI_INJECT=artifacts/bin/sei-inject benchmarks/hot-methods.sh [WINDOW_SECONDS] [WARMUP_SECONDS]   (needs perf, root)
set -euo pipefail
cd "$(dirname "$0")/.."
window=${1:-45}
warmup=${2:-8}
bin=${SEI_INJECT:-artifacts/bin/sei-inject}
[ -x "$bin" ] && [ -f "$bin.dbg" ] || { echo "needs the Native AOT binary and its $bin.dbg (make publish)" >&2; exit 2; }
. benchmarks/lib/live-setup.sh
live_setup hot-methods "$bin"
ffmpeg -hide_banner -nostdin -v error -re -stream_loop -1 -i "$work/card.flv" -c copy -f flv "rtmp://$rtmp/live/in" &
pids+=($!)
sleep 1
"$bin" run -i "rtmp://$rtmp/live/in" -o "rtmp://$rtmp/live/out" --output-format flv --key "$work/k.pem" \
  --control "127.0.0.1:$(port)" --token-file "$work/token" 2>"$work/run.log" &
injector=$!; pids+=($!)
sleep "$warmup"
# The pipeline thread is the process's main thread (its id is the process id).
perf record -q -F 20000 -o "$work/perf.data" -t "$injector" -- sleep "$window" 2>/dev/null
nm -n --defined-only "$bin.dbg" > "$work/symbols"
perf report -i "$work/perf.data" --sort sym --dsos "$(basename "$bin")" --stdio -n 2>/dev/null | awk '!/^#/ && NF >= 4 { print $2, $4 }' > "$work/samples"
python3 - "$work/symbols" "$work/samples" src/SeiInjector/hot-methods.txt <<'EOF'
import bisect, sys
from collections import Counter
symbols = []
for line in open(sys.argv[1]):
    parts = line.split()
    if len(parts) >= 3 and parts[1] in "tTwW":
        symbols.append((int(parts[0], 16), parts[2]))
symbols.sort()
starts = [a for a, _ in symbols]
weights = Counter()
for line in open(sys.argv[2]):
    count, where = line.split()
    # perf names the symbol itself when it found the .dbg (its build-id cache); otherwise it gives the address.
    if not where.startswith("0x"):
        weights[where] += int(count)
        continue
    i = bisect.bisect_right(starts, int(where, 16)) - 1
    if i >= 0:
        weights[symbols[i][1]] += int(count)
# Compiled managed methods only (the runtime's C++ and assembly helpers are not the compiler's to place). A body shared
# by identical generic instantiations shows under one of their names, which the compiler places as it is.
managed = ("CatEvening_", "S_P_", "Prometheus_", "System_", "Microsoft_")
methods = [name for name, _ in weights.most_common() if name.startswith(managed)]
# Methods of the path sampled by an earlier run and not by this one (a carrier frame's splicing and signing, once a
# second) stay, after those sampled now: a window catches only some of them. FRESH=1 starts over.
import os
if os.environ.get("FRESH") != "1" and os.path.exists(sys.argv[3]):
    methods += [name for name in (line.strip() for line in open(sys.argv[3])) if name and name not in methods]
with open(sys.argv[3], "w") as out:
    out.writelines(name + "\n" for name in methods)
total = sum(weights.values())
print(f"{len(methods)} methods written to {sys.argv[3]} ({total} own-code samples of the pipeline thread)")
EOF
