#!/usr/bin/env bash
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet src/SeiInjector/bin/Release/net10.0/sei-inject.dll --help
