#!/usr/bin/env bash
# Longer fuzz run of the SeiReader parsing APIs (issue 10): the same engine as ReaderFuzzTests (mutations of real
# signed access units through CueReader.Feed, UserDataUnregisteredReader and MessageVerifier), with more inputs.
# usage: scripts/fuzz-reader.sh [INPUTS] [SEED]      (default 2,000,000 inputs, seed from the clock; prints the seed)
# Bounded by count: about 10 minutes per million inputs on the shared 2-core machine. Exit 0 when nothing failed.
set -euo pipefail
cd "$(dirname "$0")/.."
inputs="${1:-2000000}"
seed="${2:-$(date +%s)}"
echo "fuzz-reader: $inputs inputs, seed $seed (re-run a failure with: scripts/fuzz-reader.sh $inputs $seed)"
dotnet build tests/SeiReader.Tests/SeiReader.Tests.csproj -c Release -nologo -v quiet
CATEVENING_FUZZ_INPUTS="$inputs" CATEVENING_FUZZ_SEED="$seed" \
  dotnet test tests/SeiReader.Tests/SeiReader.Tests.csproj -c Release --no-build \
  --filter "FullyQualifiedName~ReaderFuzzTests" --logger "console;verbosity=detailed"
