#!/usr/bin/env bash
# The floor of a .NET live relay (issue 9): benchmarks/LiveFloor, a Native AOT program over the project's FFmpeg layer
# that only reads each packet and writes it (what `ffmpeg -c copy` does), with sei-inject's runtime settings, measured
# by live-streams.sh in sei-inject's place against the same `ffmpeg -c copy` relays. What it reads above 1.00x is the
# cost of a .NET process as such on this machine; what sei-inject reads above the floor is its own work.
#   benchmarks/live-floor.sh [WINDOW_SECONDS] [WARMUP_SECONDS]      (STREAMS="1 8 32" by default, as live-streams.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet publish benchmarks/LiveFloor/LiveFloor.csproj -c Release --use-current-runtime -o artifacts/live-floor -nologo -v quiet
SEI_INJECT=artifacts/live-floor/live-floor exec benchmarks/live-streams.sh "$@"
